//! The journal and the run report (what each completed step verified).

use crate::layout::Layout;
use crate::plan::{Phase, Step};

pub fn phase(layout: &Layout) -> Phase {
    Phase {
        id: "report",
        title: "Record and report".into(),
        steps: vec![
            Step::WriteFile {
                path: layout.journal(),
                mode: "0644".into(),
                what: "step journal, for resume".into(),
            },
            Step::Report { path: layout.report() },
        ],
    }
}
