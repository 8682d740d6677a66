//! The guest end of the channel: find the virtio port named `ktstr.0` and write messages to it as lines.
//!
//! udev would make `/dev/virtio-ports/ktstr.0`; a bare initramfs has no udev, so the port is also found by
//! reading `/sys/class/virtio-ports/*/name` and opening the matching `/dev/vportNpM` (from devtmpfs).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::qemu::CHANNEL_PORT_NAME;
use serde::Serialize;

use super::VmError;

/// The open `ktstr.0` port.
pub struct GuestChannel {
    port: File,
    path: PathBuf,
}

impl GuestChannel {
    /// Opens the `ktstr.0` port of this guest.
    pub fn open() -> Result<GuestChannel, VmError> {
        let path = find_port(
            Path::new("/dev"),
            Path::new("/sys/class/virtio-ports"),
            CHANNEL_PORT_NAME,
        )?;
        let port = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| VmError::io("open", &path, e))?;
        Ok(GuestChannel { port, path })
    }

    /// Sends `message` as one JSON line; lines stay whole because each `GuestChannel` owns its port.
    pub fn send<M: Serialize>(&mut self, message: &M) -> Result<(), VmError> {
        let mut line = serde_json::to_vec(message)
            .map_err(|e| VmError::io("encode a message for", &self.path, e.into()))?;
        line.push(b'\n');
        self.port
            .write_all(&line)
            .map_err(|e| VmError::io("write to", &self.path, e))
    }

    /// A second handle on the port, for reading what the host sends without holding this one.
    pub fn reader(&self) -> Result<File, VmError> {
        self.port
            .try_clone()
            .map_err(|e| VmError::io("use", &self.path, e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The device of the port called `name`: `<dev>/virtio-ports/<name>` if udev made it, else the `<dev>/<port>`
/// whose `<sys_ports>/<port>/name` reads `name`.
pub(crate) fn find_port(
    dev: &Path,
    sys_ports: &Path,
    name: &'static str,
) -> Result<PathBuf, VmError> {
    let by_name = dev.join("virtio-ports").join(name);
    if by_name.exists() {
        return Ok(by_name);
    }
    let not_found = || VmError::PortNotFound {
        name,
        sys_dir: sys_ports.to_path_buf(),
    };
    let entries = std::fs::read_dir(sys_ports).map_err(|_| not_found())?;
    let mut ports: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    ports.sort();
    ports
        .iter()
        .find(|port| {
            std::fs::read_to_string(port.join("name")).is_ok_and(|text| text.trim_end() == name)
        })
        .and_then(|port| port.file_name())
        .map(|port| dev.join(port))
        .ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message type of the tests' own: the port carries any serde type.
    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Wire {
        Started,
        Finished { exit_code: i32 },
    }

    fn tree(ports: &[(&str, &str)], udev_link: bool) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("tempdir");
        for (port, name) in ports {
            let dir = root.path().join("sys").join(port);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join("name"), format!("{name}\n")).expect("write");
        }
        if udev_link {
            std::fs::create_dir_all(root.path().join("dev/virtio-ports")).expect("mkdir");
            std::fs::write(root.path().join("dev/virtio-ports/ktstr.0"), "").expect("write");
        }
        std::fs::create_dir_all(root.path().join("dev")).expect("mkdir");
        root
    }

    #[test]
    fn finds_the_port_by_name() {
        type Ports<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Ports, bool, Option<&str>); 5] = [
            (&[("vport0p1", "ktstr.0")], false, Some("dev/vport0p1")),
            (
                &[("vport0p1", "other"), ("vport0p2", "ktstr.0")],
                false,
                Some("dev/vport0p2"),
            ),
            (
                &[("vport0p1", "ktstr.0")],
                true,
                Some("dev/virtio-ports/ktstr.0"),
            ),
            (&[("vport0p1", "ktstr.00")], false, None),
            (&[], false, None),
        ];
        for (ports, udev, want) in cases {
            let root = tree(ports, udev);
            let got = find_port(
                &root.path().join("dev"),
                &root.path().join("sys"),
                "ktstr.0",
            );
            match (got, want) {
                (Ok(path), Some(want)) => assert_eq!(path, root.path().join(want), "{ports:?}"),
                (Err(VmError::PortNotFound { .. }), None) => {}
                (got, want) => panic!("{ports:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn missing_sysfs_dir_is_port_not_found() {
        let root = tree(&[], false);
        let err = find_port(
            &root.path().join("dev"),
            &root.path().join("nope"),
            "ktstr.0",
        )
        .expect_err("no sysfs");
        assert!(matches!(err, VmError::PortNotFound { .. }), "{err:?}");
    }

    #[test]
    fn sent_lines_parse_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("port");
        let port = File::create(&path).expect("create");
        let mut channel = GuestChannel {
            port,
            path: path.clone(),
        };
        let messages = [Wire::Started, Wire::Finished { exit_code: 3 }];
        for message in &messages {
            channel.send(message).expect("send");
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let back: Vec<Wire> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("parses"))
            .collect();
        assert_eq!(back, messages);
    }
}
