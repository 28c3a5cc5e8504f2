//! Grouping of identical reports: the same title and the same stacks (the
//! reliable frames' functions and offsets, in order), as a rebooting test
//! loop or a bug hit in a loop prints them.

use std::collections::HashMap;

use super::model::{Frame, Group, Report};

/// The identity of a report.
fn key(r: &Report) -> String {
    let mut k = String::with_capacity(256);
    k.push_str(r.kind.id());
    k.push('\n');
    k.push_str(&r.title);
    let mut stack = |label: &str, frames: &[Frame]| {
        k.push('\n');
        k.push_str(label);
        for f in frames.iter().filter(|f| !f.unreliable) {
            k.push(' ');
            k.push_str(&f.symbol);
            if let Some(o) = &f.offset {
                k.push('+');
                k.push_str(o);
            }
        }
    };
    stack("registration", &r.registration_stack);
    stack("current", &r.current_stack);
    for c in &r.chain {
        stack("chain", &c.stack);
    }
    for s in &r.stacks {
        stack(&s.label, &s.frames);
    }
    k
}

/// Groups reports, in order of first appearance.
pub fn group(reports: &[Report]) -> Vec<Group> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let g = *index.entry(key(r)).or_insert_with(|| {
            groups.push(Group {
                kind: r.kind,
                title: r.title.clone(),
                count: 0,
                lines: Vec::new(),
                reports: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].count += 1;
        groups[g].lines.push(r.line);
        groups[g].reports.push(i);
    }
    groups
}
