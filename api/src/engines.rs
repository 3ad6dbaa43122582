//! Which engines hold the catalog and the recordings: the embedded default (SQLite and a folder,
//! inside the data folder) or shared ones (PostgreSQL and an S3 bucket) that several machines
//! run the same binary against.
//!
//! Chosen by `--catalog` / `--objects` (or `CALLPROOF_CATALOG` / `CALLPROOF_OBJECTS`), or by a
//! TOML file given with `--config` (`CALLPROOF_CONFIG`); a flag wins over the file. S3
//! credentials come from the usual `AWS_*` variables or the file's `[s3]` table, and are never
//! printed: [`Engines::describe`] names the engines without them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use callproof_metastore::{Metastore, PostgresMetastore, SqliteMetastore};
use callproof_storage::OriginalStore;

/// The engines a process uses; `None` is the embedded default inside the data folder.
#[derive(Debug, Clone, Default)]
pub struct Engines {
    /// `sqlite://PATH` or `postgres://…`.
    pub catalog: Option<String>,
    /// A folder, `file:///PATH` or `s3://bucket/prefix`.
    pub objects: Option<String>,
    /// S3 settings from the configuration file (`aws_*` names), over the environment's.
    pub s3: Vec<(String, String)>,
    /// The configuration file, passed on to the worker processes a server starts.
    pub config_file: Option<PathBuf>,
}

/// The configuration file's shape.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    catalog: Option<String>,
    objects: Option<String>,
    #[serde(default)]
    s3: std::collections::BTreeMap<String, String>,
}

impl Engines {
    /// Resolves the flags (or their variables) over the configuration file, if any.
    pub fn resolve(
        catalog: Option<String>,
        objects: Option<String>,
        config: Option<PathBuf>,
    ) -> Result<Self> {
        let file = match &config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })?;
                toml::from_str::<ConfigFile>(&text).with_context(|| {
                    format!(
                        "the configuration file {} is not valid (expected `catalog = \"postgres://…\"`, `objects = \"s3://bucket/prefix\"` and an optional [s3] table of aws_* settings)",
                        path.display()
                    )
                })?
            }
            None => ConfigFile::default(),
        };
        let engines = Self {
            catalog: catalog.or(file.catalog).filter(|s| !s.is_empty()),
            objects: objects.or(file.objects).filter(|s| !s.is_empty()),
            s3: file.s3.into_iter().collect(),
            config_file: config,
        };
        if let Some(c) = &engines.catalog {
            if !(c.starts_with("sqlite://") || is_postgres(c)) {
                bail!("unsupported catalog {c:?}: give sqlite://PATH or postgres://user:password@host:port/database");
            }
        }
        Ok(engines)
    }

    /// Opens the catalog: PostgreSQL, a given SQLite file, or the data folder's.
    pub async fn open_catalog(&self, data: &Path) -> Result<Arc<dyn Metastore>> {
        Ok(match self.catalog.as_deref() {
            Some(url) if is_postgres(url) => Arc::new(PostgresMetastore::connect(url).await?),
            Some(url) => {
                let path = url.trim_start_matches("sqlite://");
                Arc::new(SqliteMetastore::open(Path::new(path))?)
            }
            None => Arc::new(SqliteMetastore::open(&data.join("catalog.sqlite"))?),
        })
    }

    /// Opens the object store: the given URI, or the data folder's `objects/`. A shared store
    /// is checked (written, read back, removed) so that a wrong bucket or credential is
    /// reported now rather than at the first upload.
    pub async fn open_store(&self, data: &Path) -> Result<OriginalStore> {
        match self.objects.as_deref() {
            Some(uri) => {
                let store = OriginalStore::from_uri_with(uri, &self.s3)?;
                if uri.starts_with("s3://") {
                    store.check().await.with_context(|| {
                        format!("the object store {uri} cannot be written; check the bucket, AWS_ENDPOINT_URL and the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
                    })?;
                }
                Ok(store)
            }
            None => Ok(OriginalStore::local(&data.join("objects"))?),
        }
    }

    /// The engines in words, without credentials.
    pub fn describe(&self, data: &Path) -> String {
        let catalog = match self.catalog.as_deref() {
            Some(url) if is_postgres(url) => format!("PostgreSQL {}", without_password(url)),
            Some(url) => format!("SQLite {}", url.trim_start_matches("sqlite://")),
            None => format!("SQLite {}", data.join("catalog.sqlite").display()),
        };
        let objects = match self.objects.as_deref() {
            Some(uri) => uri.to_string(),
            None => data.join("objects").display().to_string(),
        };
        format!("catalog: {catalog}; recordings: {objects}")
    }

    /// The flags and variables that give a child process (a worker) the same engines.
    pub fn pass_to(&self, cmd: &mut std::process::Command) {
        if let Some(c) = &self.catalog {
            cmd.env("CALLPROOF_CATALOG", c);
        }
        if let Some(o) = &self.objects {
            cmd.env("CALLPROOF_OBJECTS", o);
        }
        if let Some(f) = &self.config_file {
            cmd.env("CALLPROOF_CONFIG", f);
        }
    }
}

/// `callproof migrate`: an embedded data folder into the shared engines.
#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The data folder to copy (its catalog.sqlite and objects/); the targets are --catalog
    /// (PostgreSQL) and --objects.
    #[arg(long)]
    pub from: PathBuf,
}

/// Copies an embedded data folder into PostgreSQL and the object store named by the global
/// options: recordings first (so that no copied call lacks its recording), then every record
/// of the catalog in one transaction. Nothing is transcribed again; running it again copies
/// only what is missing.
pub async fn migrate(
    settings: &crate::app::Settings,
    args: MigrateArgs,
) -> Result<std::process::ExitCode> {
    let e = &settings.engines;
    let Some(url) = e.catalog.as_deref().filter(|c| is_postgres(c)) else {
        bail!("give the target catalog: --catalog postgres://user:password@host:port/database (or CALLPROOF_CATALOG)");
    };
    if e.objects.is_none() {
        bail!("give the target object store: --objects s3://bucket/prefix (or CALLPROOF_OBJECTS)");
    }
    let catalog_file = args.from.join("catalog.sqlite");
    if !catalog_file.is_file() {
        bail!(
            "{} holds no catalog.sqlite: --from names the data folder to copy",
            args.from.display()
        );
    }
    let source = OriginalStore::local(&args.from.join("objects"))?;
    let target = e.open_store(&args.from).await?;
    let spinner = crate::cli::spinner()?;
    spinner.set_message("copying recordings");
    let (copied, present) = source
        .copy_all_into(&target, &|n| {
            spinner.set_message(format!("copying recordings: {n}"))
        })
        .await?;
    spinner.set_message("copying the catalog");
    let pg = PostgresMetastore::connect(url).await?;
    let report = callproof_metastore::copy_sqlite_into_postgres(&catalog_file, &pg, &|table, n| {
        spinner.set_message(format!("copying the catalog: {table} ({n} rows)"))
    })
    .await?;
    spinner.finish_and_clear();
    println!("recordings: {copied} copied, {present} already there");
    for (table, copied, present) in &report.tables {
        if copied + present > 0 {
            println!("{table:<16} {copied} copied, {present} already there");
        }
    }
    use callproof_metastore::Access;
    match pg.verify_audit().await? {
        Ok(n) => println!(
            "audit log: {n} entries, chain verified in {}",
            without_password(url)
        ),
        Err(b) => bail!(
            "the copied audit log does not verify at entry {}: {}",
            b.seq,
            b.reason
        ),
    }
    println!(
        "done: point every node at it (--catalog, --objects); their indexes are built from the catalog"
    );
    Ok(std::process::ExitCode::SUCCESS)
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A URL with its password replaced, for messages and logs.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = url[s + 3..at].split(':').next().unwrap_or("");
            format!("{}://{user}@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_bad_catalogs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("callproof.toml");
        std::fs::write(
            &file,
            "catalog = \"postgres://cp:pw@db/callproof\"\nobjects = \"s3://b/p\"\n[s3]\naws_region = \"eu-west-3\"\n",
        )
        .unwrap();
        let e = Engines::resolve(None, Some("/srv/objects".into()), Some(file.clone())).unwrap();
        assert_eq!(e.catalog.as_deref(), Some("postgres://cp:pw@db/callproof"));
        assert_eq!(e.objects.as_deref(), Some("/srv/objects"));
        assert_eq!(e.s3, vec![("aws_region".into(), "eu-west-3".into())]);
        assert!(!e.describe(Path::new("d")).contains("pw"));
        let err = Engines::resolve(Some("mysql://x".into()), None, None).unwrap_err();
        assert!(err.to_string().contains("unsupported catalog"), "{err}");
        std::fs::write(&file, "catalogue = \"x\"\n").unwrap();
        let err = Engines::resolve(None, None, Some(file)).unwrap_err();
        assert!(format!("{err:#}").contains("not valid"), "{err:#}");
    }
}
