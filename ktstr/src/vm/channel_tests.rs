//! The reader against a local unix listener standing in for QEMU.

use std::io::Write;
use std::os::unix::net::UnixListener;

use super::*;

/// A message type of the tests' own: the reader parses any serde type.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    Started,
    Finished { exit_code: i32 },
    Log { line: String },
}

impl Wire {
    fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("serializes");
        line.push('\n');
        line
    }
}

const GENEROUS: Duration = Duration::from_secs(30);

fn deadline() -> Instant {
    Instant::now() + GENEROUS
}

/// Every event up to and including the last, or a failure if it takes longer than `GENEROUS`.
fn drain(reader: &ChannelReader<Wire>) -> Vec<ChannelEvent<Wire>> {
    let until = deadline();
    let mut events = Vec::new();
    while let Some(event) = reader.recv_until(until) {
        let last = matches!(event, ChannelEvent::Closed | ChannelEvent::Failed(_));
        events.push(event);
        if last {
            return events;
        }
    }
    panic!("reader did not finish: {events:?}");
}

fn describe(event: &ChannelEvent<Wire>) -> String {
    match event {
        ChannelEvent::Connected { .. } => "connected".into(),
        ChannelEvent::Message { message, .. } => format!("{message:?}"),
        ChannelEvent::Unparsed { line, .. } => format!("unparsed {line:?}"),
        ChannelEvent::Closed => "closed".into(),
        ChannelEvent::Failed(e) => format!("failed {e}"),
    }
}

#[test]
fn lines_become_events_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("ktstr.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let reader = ChannelReader::<Wire>::spawn(&socket, deadline()).expect("spawn");
    let (mut guest, _) = listener.accept().expect("accept");
    let mut wire = Wire::Started.to_line().into_bytes();
    wire.extend(b"garbage\n\xff\xfe\n");
    wire.extend(Wire::Finished { exit_code: 0 }.to_line().as_bytes());
    wire.extend(br#"{"type":"log","line":"no newline at the end"}"#);
    guest.write_all(&wire).expect("write");
    drop(guest);
    let got: Vec<String> = drain(&reader).iter().map(describe).collect();
    let want = [
        "connected",
        "Started",
        "unparsed \"garbage\"",
        "unparsed \"\u{fffd}\u{fffd}\"",
        "Finished { exit_code: 0 }",
        "Log { line: \"no newline at the end\" }",
        "closed",
    ];
    assert_eq!(got, want);
}

#[test]
fn waits_for_a_socket_that_appears_late() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("late.sock");
    let reader = ChannelReader::<Wire>::spawn(&socket, deadline()).expect("spawn");
    std::thread::sleep(Duration::from_millis(200));
    let listener = UnixListener::bind(&socket).expect("bind");
    let (mut guest, _) = listener.accept().expect("accept");
    guest
        .write_all(Wire::Started.to_line().as_bytes())
        .expect("write");
    drop(guest);
    let got: Vec<String> = drain(&reader).iter().map(describe).collect();
    assert_eq!(got, ["connected", "Started", "closed"]);
}

#[test]
fn missing_socket_times_out_with_a_typed_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("never.sock");
    let give_up = Instant::now() + Duration::from_millis(100);
    let reader = ChannelReader::<Wire>::spawn(&socket, give_up).expect("spawn");
    let events = drain(&reader);
    assert!(Instant::now() >= give_up, "gave up before the deadline");
    assert_eq!(events.len(), 1, "{events:?}");
    let ChannelEvent::Failed(VmError::ChannelConnectTimeout {
        socket: got,
        waited,
    }) = &events[0]
    else {
        panic!("{events:?}");
    };
    assert_eq!(got, &socket);
    assert!(*waited > Duration::ZERO, "{waited:?}");
}

#[test]
fn drop_stops_a_reader_blocked_on_a_silent_guest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("silent.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let reader = ChannelReader::<Wire>::spawn(&socket, deadline()).expect("spawn");
    let (_guest, _) = listener.accept().expect("accept");
    assert!(matches!(
        reader.recv_until(deadline()),
        Some(ChannelEvent::Connected { .. })
    ));
    let started = Instant::now();
    drop(reader);
    assert!(
        started.elapsed() < GENEROUS,
        "drop joined the blocked thread"
    );
}

#[test]
fn drop_stops_a_reader_still_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reader =
        ChannelReader::<Wire>::spawn(&dir.path().join("absent.sock"), deadline()).expect("spawn");
    let started = Instant::now();
    drop(reader);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not wait for the deadline"
    );
}

#[test]
fn parse_line_never_panics_on_bytes() {
    for raw in [&b""[..], b"\n", b"{", b"\xc3", br#"{"type":"started"}"#] {
        let event = parse_line::<Wire>(raw);
        assert!(
            matches!(
                event,
                ChannelEvent::Message { .. } | ChannelEvent::Unparsed { .. }
            ),
            "{raw:?}"
        );
    }
}
