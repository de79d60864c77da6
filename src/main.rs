fn main() {
    let config = gem::engine::EngineConfig::new(std::env::args().nth(1).unwrap_or_default());
    match gem::engine::open(&config) {
        Ok(b) => println!("{}", b.info().summary()),
        Err(e) => eprintln!("error: {e}"),
    }
}
