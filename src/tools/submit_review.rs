//! `submit_review`: how `gem review` receives its findings. The call's arguments follow the
//! findings schema, so the call grammar built from that schema keeps them well-formed: a review
//! cannot fail on format. Declared only in review mode; running it records nothing by itself
//! (the review command reads the call's arguments).

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::schema::schema_for;
use super::{Prepared, Tool, ToolContext, ToolError, ToolKind, ToolOutput};

/// The tool's name, as the model calls it.
pub const SUBMIT_REVIEW: &str = "submit_review";

/// How serious a finding is.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReviewSeverity {
    /// A real defect.
    Error,
    /// Likely a problem.
    Warning,
    /// A remark.
    Info,
}

/// One finding.
#[derive(Debug, Deserialize, JsonSchema)]
#[expect(
    dead_code,
    reason = "deserialized to validate the call; `gem review` reads the arguments themselves"
)]
#[serde(deny_unknown_fields)]
pub struct ReviewFinding {
    /// Path of the file as in the diff; empty for a general remark.
    pub file: String,
    /// Line number in the new version of the file.
    pub line: Option<u32>,
    /// error, warning or info.
    pub severity: ReviewSeverity,
    /// One-line summary.
    pub title: String,
    /// What is wrong and how to fix it.
    pub body: String,
}

/// Arguments of `submit_review`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReviewArgs {
    /// Every finding; an empty list when the change is fine.
    pub findings: Vec<ReviewFinding>,
}

/// Hands the review's findings over.
#[derive(Debug, Default)]
pub struct SubmitReviewTool;

impl Tool for SubmitReviewTool {
    fn name(&self) -> &'static str {
        SUBMIT_REVIEW
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/submit_review.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<SubmitReviewArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    fn prepare(&self, args: serde_json::Value, _ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: SubmitReviewArgs = parse_args(self.name(), args)?;
        let count = args.findings.len();
        let summary = format!(
            "review submitted: {count} finding{}",
            if count == 1 { "" } else { "s" }
        );
        Ok(Prepared::new(
            None,
            ToolKind::Read,
            summary.clone(),
            move |_| ToolOutput {
                content: format!("Recorded: {summary}."),
                summary,
                ..ToolOutput::default()
            },
        ))
    }
}
