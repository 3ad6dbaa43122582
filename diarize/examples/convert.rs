//! Converts the pinned resemblyzer wheel into the safetensors file diarization loads (what
//! `callproof model install speaker` does, without the model cache).
//!
//!   cargo run -p callproof-diarize --example convert -- WHEEL OUT.safetensors

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wheel, out] = args.as_slice() else {
        eprintln!("usage: convert WHEEL OUT.safetensors");
        std::process::exit(2);
    };
    match callproof_diarize::convert_wheel(wheel.as_ref(), out.as_ref()) {
        Ok(c) => println!("{} parameters, sha256 {}", c.parameters, c.sha256),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}
