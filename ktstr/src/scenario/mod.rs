//! Scenarios as data: context, cgroup definitions, steps and ops, cpuset specs, executors, canned catalog.
