//! Error answers of the server, in words for the terminal.

/// The problem+json an error answer carries, in words.
pub async fn describe(res: reqwest::Response) -> String {
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(p) => format!(
            "{status}: {}{}",
            p["title"].as_str().unwrap_or(""),
            p["detail"]
                .as_str()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ),
        Err(_) => format!("{status}"),
    }
}
