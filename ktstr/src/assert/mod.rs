//! Checks over worker reports: layered thresholds, verdicts with details and stats, human rendering.
