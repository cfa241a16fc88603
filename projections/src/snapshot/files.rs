//! Where snapshots live: one file in the service's data directory, replaced atomically.
//!
//! Files rather than a table: the service role may only insert into the log's tables, a
//! snapshot is a cache any instance can rebuild from the log, and each instance keeps its own
//! (two instances need not agree on when to take one). An instance without a persistent data
//! directory simply replays in full.

use std::{
    fs::File,
    io::{BufReader, BufWriter},
    path::{Path, PathBuf},
};

const FILE: &str = "access-model.snapshot";

#[derive(Clone, Debug)]
pub struct SnapshotDir {
    dir: PathBuf,
}

impl SnapshotDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// The latest snapshot, to be read as it goes; `None` when there is none.
    pub fn open(&self) -> std::io::Result<Option<BufReader<File>>> {
        match File::open(self.path()) {
            Ok(f) => Ok(Some(BufReader::with_capacity(1 << 20, f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes the snapshot (and any half-written one); none there is fine.
    pub fn remove(&self) -> std::io::Result<()> {
        for path in [self.path(), self.dir.join(format!("{FILE}.tmp"))] {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Replaces the snapshot with what `write` writes. Written beside it and renamed, so a
    /// crash (or an error) mid-write leaves the previous one whole.
    pub fn write_with<T>(
        &self,
        write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        let finished = File::create(&tmp).and_then(|f| {
            let mut out = BufWriter::with_capacity(1 << 20, f);
            let written = write(&mut out)?;
            let f = out.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            Ok(written)
        });
        let written = match finished {
            Ok(written) => written,
            Err(e) => {
                // A half-written file would hold its disk space until the next snapshot.
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std::fs::rename(&tmp, self.path())?;
        sync_dir(&self.dir);
        Ok(written)
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
