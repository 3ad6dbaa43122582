//! Quality audits as use cases: drawing and storing samples, submitting reviews, calibrations
//! and what each reviewer may see of them. The numbers come from `callproof-quality` (pure).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use callproof_models::{
    Actor, Calibration, Call, CallId, Review, ReviewInput, Sample, SampleParams, Scope,
};
pub use callproof_quality::*;

use crate::app::App;

impl App {
    /// Draws and stores a sample; the caller checked the client is in its scope.
    pub async fn create_sample(&self, params: SampleParams, actor: &Actor) -> Result<Sample> {
        let utc = |t: Option<chrono::DateTime<chrono::FixedOffset>>| {
            t.map(|t| t.with_timezone(&chrono::Utc))
        };
        let candidates = self
            .catalog
            .verified_calls(&params.client, utc(params.from), utc(params.to))
            .await?;
        let (calls, strata) = draw(&params, &candidates)?;
        let sample = Sample {
            id: callproof_models::SampleId::new(),
            params,
            calls,
            strata,
            created_at: chrono::Utc::now(),
            created_by: actor.clone(),
        };
        self.catalog.put_sample(&sample).await?;
        self.audit(
            actor,
            crate::service::AuditAction::CreateSample,
            Some(sample.id.as_str()),
            "ok",
        )
        .await?;
        Ok(sample)
    }

    /// The client's scorecard: criteria and weights from its rule set (or pack).
    async fn scorecard(&self, call: &Call, language: &str) -> Result<Vec<(String, f32)>> {
        let (book, _) = self.rules_for(&call.metadata.client, language).await?;
        Ok(book
            .scorecard
            .iter()
            .map(|c| (c.criterion.clone(), c.weight))
            .collect())
    }

    /// Stores a review of a call the caller may see; None when it may not.
    pub async fn submit_review(
        &self,
        id: CallId,
        scope: &Scope,
        actor: &Actor,
        mut input: ReviewInput,
    ) -> Result<Option<Review>> {
        let Some(call) = self.catalog.get_in(id, scope).await? else {
            self.audit(
                actor,
                crate::service::AuditAction::SubmitReview,
                Some(&id.to_string()),
                "not_found",
            )
            .await?;
            return Ok(None);
        };
        let v = self
            .catalog
            .verification_in(id, &Scope::All)
            .await?
            .with_context(|| {
                format!("call {id} is not verified yet: it can be reviewed once it is")
            })?;
        callproof_quality::confirm_rest(&v, &mut input);
        if let Some(cal) = &input.calibration_id {
            let c = self
                .catalog
                .calibration(cal)
                .await?
                .filter(|c| c.call_id == id)
                .with_context(|| format!("no calibration {cal} for call {id}"))?;
            if !c.reviewers.contains(&actor.key_id) {
                anyhow::bail!(
                    "key {} is not one of calibration {cal}'s reviewers",
                    actor.key_id
                );
            }
        }
        if let Some(sid) = &input.sample_id {
            let s = self
                .catalog
                .sample(sid)
                .await?
                .filter(|s| s.calls.iter().any(|c| c.call_id == id))
                .with_context(|| format!("call {id} is not in sample {sid}"))?;
            let _ = s;
        }
        let language = self
            .catalog
            .transcript_in(id, &Scope::All)
            .await?
            .map(|t| t.language)
            .unwrap_or_else(|| self.language_of(&call.metadata));
        let score = check_review(&v, &input, &self.scorecard(&call, &language).await?)?;
        let version = self
            .catalog
            .next_review_version(id, &actor.key_id, input.calibration_id.as_ref())
            .await?;
        let review = Review {
            id: callproof_models::ReviewId::new(),
            call_id: id,
            reviewer: actor.clone(),
            version,
            automatic_verdict: v.verdict,
            reviewed_verdict: reviewed_verdict(&v, &input),
            input,
            score,
            created_at: chrono::Utc::now(),
        };
        self.catalog.put_review(&review).await?;
        self.audit(
            actor,
            crate::service::AuditAction::SubmitReview,
            Some(&id.to_string()),
            &format!("ok version {version}"),
        )
        .await?;
        Ok(Some(review))
    }

    /// The reviews of a call the caller may see: calibration answers of others stay hidden
    /// until every reviewer of that calibration has answered.
    pub async fn visible_reviews(
        &self,
        id: CallId,
        scope: &Scope,
        actor: &Actor,
    ) -> Result<Option<Vec<Review>>> {
        if self.catalog.get_in(id, scope).await?.is_none() {
            return Ok(None);
        }
        let all = self.catalog.reviews(id).await?;
        Ok(Some(self.visible_to(&all, actor).await?))
    }

    pub async fn create_calibration(
        &self,
        id: CallId,
        scope: &Scope,
        actor: &Actor,
        reviewers: Vec<String>,
    ) -> Result<Option<Calibration>> {
        let Some(call) = self.catalog.get_in(id, scope).await? else {
            return Ok(None);
        };
        if reviewers.len() < 2 {
            anyhow::bail!("a calibration needs at least two reviewers (their key ids)");
        }
        let client = &call.metadata.client;
        for r in &reviewers {
            // One answer for every way a key can be unfit (unknown, revoked, wrong role,
            // another tenant's): the caller learns nothing about keys it may not see.
            let fit = self.catalog.key(r).await?.is_some_and(|(key, _)| {
                key.revoked_at.is_none()
                    && matches!(
                        key.role,
                        callproof_models::Role::Admin | callproof_models::Role::QualityManager
                    )
                    && key.scope().allows(client)
            });
            if !fit {
                anyhow::bail!(
                    "key {r} cannot review calls of client {client}: reviewers are quality managers (or administrators) assigned to that client; `callproof keys list` shows them"
                );
            }
        }
        let c = Calibration {
            id: callproof_models::CalibrationId::new(),
            call_id: id,
            reviewers,
            created_at: chrono::Utc::now(),
            created_by: actor.clone(),
        };
        self.catalog.put_calibration(&c).await?;
        self.audit(
            actor,
            crate::service::AuditAction::CreateCalibration,
            Some(c.id.as_str()),
            "ok",
        )
        .await?;
        Ok(Some(c))
    }

    async fn calibration_view_inner(
        &self,
        cal: &callproof_models::CalibrationId,
        all: &[Review],
    ) -> Result<Option<CalibrationView>> {
        let Some(c) = self.catalog.calibration(cal).await? else {
            return Ok(None);
        };
        let mut latest: BTreeMap<String, &Review> = BTreeMap::new();
        for r in all
            .iter()
            .filter(|r| r.input.calibration_id.as_ref() == Some(cal))
        {
            if latest
                .get(&r.reviewer.key_id)
                .is_none_or(|x| r.version > x.version)
            {
                latest.insert(r.reviewer.key_id.clone(), r);
            }
        }
        let answered: Vec<String> = c
            .reviewers
            .iter()
            .filter(|k| latest.contains_key(*k))
            .cloned()
            .collect();
        let pending: Vec<String> = c
            .reviewers
            .iter()
            .filter(|k| !latest.contains_key(*k))
            .cloned()
            .collect();
        let complete = pending.is_empty();
        let answers: Vec<&Review> = latest.values().copied().collect();
        Ok(Some(CalibrationView {
            agreement: if complete {
                agreement(&answers)
            } else {
                Vec::new()
            },
            reviews: answers.into_iter().cloned().collect(),
            calibration: c,
            answered,
            pending,
            complete,
        }))
    }

    /// A calibration as the caller may see it; None when its call is outside the scope.
    pub async fn calibration_view(
        &self,
        cal: &str,
        scope: &Scope,
        actor: &Actor,
    ) -> Result<Option<CalibrationView>> {
        // An id that is not even well-formed names no calibration.
        let Ok(cal) = cal.parse::<callproof_models::CalibrationId>() else {
            return Ok(None);
        };
        let cal = &cal;
        let Some(c) = self.catalog.calibration(cal).await? else {
            return Ok(None);
        };
        if self.catalog.get_in(c.call_id, scope).await?.is_none() {
            return Ok(None);
        }
        let all = self.catalog.reviews(c.call_id).await?;
        let mut view = self.calibration_view_inner(cal, &all).await?;
        if let Some(v) = &mut view {
            if !v.complete {
                v.reviews.retain(|r| r.reviewer.key_id == actor.key_id);
            }
        }
        Ok(view)
    }

    /// A client's reviews as `actor` may export them: a calibration answer of another
    /// reviewer stays hidden until every reviewer of that calibration has answered, exactly
    /// as on the call's page.
    pub async fn exportable_reviews(&self, client: &str, actor: &Actor) -> Result<Vec<Review>> {
        self.visible_to(&self.catalog.client_reviews(client).await?, actor)
            .await
    }

    /// The reviews of `all` that `actor` may see: calibration answers of others only once
    /// every reviewer of that calibration has answered.
    pub(crate) async fn visible_to(&self, all: &[Review], actor: &Actor) -> Result<Vec<Review>> {
        let mut complete: BTreeMap<callproof_models::CalibrationId, bool> = BTreeMap::new();
        let mut out = Vec::new();
        for r in all {
            let visible = match &r.input.calibration_id {
                None => true,
                Some(_) if r.reviewer.key_id == actor.key_id => true,
                Some(cal) => {
                    if !complete.contains_key(cal) {
                        let done = self
                            .calibration_view_inner(cal, all)
                            .await?
                            .is_some_and(|v| v.complete);
                        complete.insert(cal.clone(), done);
                    }
                    complete[cal]
                }
            };
            if visible {
                out.push(r.clone());
            }
        }
        Ok(out)
    }

    /// Per rule, how reviewers judged it (latest review per reviewer and call).
    pub async fn rules_field_report(&self, client: &str) -> Result<Vec<RuleField>> {
        let reviews = self.catalog.client_reviews(client).await?;
        let mut pairs = Vec::new();
        for r in latest_reviews(&reviews) {
            if let Some(v) = self.catalog.verification_in(r.call_id, &Scope::All).await? {
                pairs.push((v, r.clone()));
            }
        }
        Ok(rules_report(&pairs))
    }
}
