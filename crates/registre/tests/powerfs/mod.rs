//! A file system that loses power: an in-memory FUSE file system (the `fuser` crate, pure
//! Rust, no libfuse) that keeps, for every file, the bytes written since its last `fsync`
//! apart from its durable bytes, and for every directory the entries made (created, renamed,
//! removed) since its last `fsync` apart from its durable entries. A power cut, at the
//! mutating operation a seed chose, fails that operation and every later one with EIO (so
//! nothing is acknowledged after it), and once the processes on it are gone and it is
//! unmounted, leaves only what was durable: files not named by a synced directory are gone,
//! files not synced are back to their last synced bytes. This is the strict POSIX model of
//! what survives a power loss, the one the crash-consistency tools (ALICE, CrashMonkey,
//! Jepsen's lazyfs) test against.
//!
//! With `lying`, `fsync` is acknowledged and nothing is made durable: the harness then must
//! see writes lost, which proves it is not a no-op.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use fuser::{
    Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
    WriteFlags,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

enum Kind {
    File {
        data: Vec<u8>,
        durable: Vec<u8>,
        /// The byte range changed since the last sync (writes, truncation, growth).
        dirty: Option<(usize, usize)>,
    },
    Dir {
        entries: BTreeMap<OsString, u64>,
        durable: BTreeMap<OsString, u64>,
    },
}

struct Node {
    kind: Kind,
    perm: u16,
    mtime: SystemTime,
}

#[derive(Default)]
struct State {
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    /// Mutating operations (writes, syncs, creations, renames, removals) seen so far.
    operations: u64,
    /// The operation at which the power goes (1-based); `None`: not before [`PowerFs::cut_now`].
    cut_at: Option<u64>,
    cut: bool,
    lying: bool,
}

impl State {
    fn new() -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(
            1,
            Node {
                kind: Kind::Dir {
                    entries: BTreeMap::new(),
                    durable: BTreeMap::new(),
                },
                perm: 0o755,
                mtime: SystemTime::now(),
            },
        );
        State {
            nodes,
            next_ino: 2,
            ..Default::default()
        }
    }

    /// Counts one mutating operation; false once the power is cut (the caller fails with EIO).
    fn tick(&mut self) -> bool {
        if self.cut {
            return false;
        }
        self.operations += 1;
        if self.cut_at.is_some_and(|at| self.operations >= at) {
            self.cut = true;
            return false;
        }
        true
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let node = self.nodes.get(&ino)?;
        let (kind, size, nlink) = match &node.kind {
            Kind::File { data, .. } => (FileType::RegularFile, data.len() as u64, 1),
            Kind::Dir { .. } => (FileType::Directory, 0, 2),
        };
        Some(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: node.mtime,
            mtime: node.mtime,
            ctime: node.mtime,
            crtime: node.mtime,
            kind,
            perm: node.perm,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            flags: 0,
            blksize: 4096,
        })
    }

    fn lookup(&self, parent: u64, name: &OsStr) -> Option<u64> {
        match &self.nodes.get(&parent)?.kind {
            Kind::Dir { entries, .. } => entries.get(name).copied(),
            Kind::File { .. } => None,
        }
    }

    fn insert(&mut self, parent: u64, name: &OsStr, kind: Kind, perm: u16) -> Result<u64, Errno> {
        if self.lookup(parent, name).is_some() {
            return Err(Errno::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(
            ino,
            Node {
                kind,
                perm,
                mtime: SystemTime::now(),
            },
        );
        match self.nodes.get_mut(&parent).map(|n| &mut n.kind) {
            Some(Kind::Dir { entries, .. }) => {
                entries.insert(name.to_owned(), ino);
                Ok(ino)
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn set_len(&mut self, ino: u64, len: usize) {
        if let Some(Node {
            kind: Kind::File { data, dirty, .. },
            mtime,
            ..
        }) = self.nodes.get_mut(&ino)
        {
            let old = data.len();
            if len != old {
                let (lo, hi) = (old.min(len), old.max(len));
                *dirty = Some(dirty.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
                data.resize(len, 0);
            }
            *mtime = SystemTime::now();
        }
    }

    fn sync(&mut self, ino: u64) {
        if self.lying {
            return;
        }
        match self.nodes.get_mut(&ino).map(|n| &mut n.kind) {
            Some(Kind::File {
                data,
                durable,
                dirty,
            }) => {
                durable.resize(data.len(), 0);
                if let Some((lo, hi)) = dirty.take() {
                    let hi = hi.min(data.len());
                    if lo < hi {
                        durable[lo..hi].copy_from_slice(&data[lo..hi]);
                    }
                }
            }
            Some(Kind::Dir { entries, durable }) => *durable = entries.clone(),
            None => {}
        }
    }

    /// What is left after the power cut: what durable entries reach, with durable bytes.
    fn power_cut(&mut self) {
        let mut reachable = HashSet::new();
        let mut stack = vec![1u64];
        while let Some(ino) = stack.pop() {
            if reachable.insert(ino)
                && let Some(Node {
                    kind: Kind::Dir { durable, .. },
                    ..
                }) = self.nodes.get(&ino)
            {
                stack.extend(durable.values().copied());
            }
        }
        self.nodes.retain(|ino, _| reachable.contains(ino));
        for node in self.nodes.values_mut() {
            match &mut node.kind {
                Kind::File {
                    data,
                    durable,
                    dirty,
                } => {
                    *data = durable.clone();
                    *dirty = None;
                }
                Kind::Dir { entries, durable } => *entries = durable.clone(),
            }
        }
        self.cut = false;
        self.cut_at = None;
        self.operations = 0;
    }
}

#[derive(Clone)]
struct Fs {
    state: Arc<Mutex<State>>,
}

const TTL: Duration = Duration::ZERO;

impl Fs {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let state = self.state();
        match state.lookup(parent.0, name).and_then(|ino| state.attr(ino)) {
            Some(attr) => reply.entry(&TTL, &attr, Generation(0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.state().attr(ino.0) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut state = self.state();
        if size.is_some() && !state.tick() {
            return reply.error(Errno::EIO);
        }
        if let Some(size) = size {
            state.set_len(ino.0, size as usize);
        }
        if let Some(mode) = mode
            && let Some(node) = state.nodes.get_mut(&ino.0)
        {
            node.perm = (mode & 0o7777) as u16;
        }
        match state.attr(ino.0) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut state = self.state();
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        let kind = Kind::Dir {
            entries: BTreeMap::new(),
            durable: BTreeMap::new(),
        };
        match state.insert(parent.0, name, kind, (mode & !umask & 0o7777) as u16) {
            Ok(ino) => reply.entry(&TTL, &state.attr(ino).unwrap(), Generation(0)),
            Err(error) => reply.error(error),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut state = self.state();
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        let kind = Kind::File {
            data: Vec::new(),
            durable: Vec::new(),
            dirty: None,
        };
        match state.insert(parent.0, name, kind, (mode & !umask & 0o7777) as u16) {
            Ok(ino) => reply.created(
                &TTL,
                &state.attr(ino).unwrap(),
                Generation(0),
                FileHandle(0),
                FopenFlags::empty(),
            ),
            Err(error) => reply.error(error),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, reply);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        let Some(ino) = state.lookup(parent.0, name) else {
            return reply.error(Errno::ENOENT);
        };
        if let Some(Node {
            kind: Kind::Dir { entries, .. },
            ..
        }) = state.nodes.get_mut(&parent.0)
        {
            entries.remove(name);
        }
        match state.nodes.get_mut(&newparent.0).map(|n| &mut n.kind) {
            Some(Kind::Dir { entries, .. }) => {
                entries.insert(newname.to_owned(), ino);
                reply.ok();
            }
            _ => reply.error(Errno::ENOTDIR),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let state = self.state();
        if state.cut {
            return reply.error(Errno::EIO);
        }
        match state.nodes.get(&ino.0) {
            Some(_) => reply.opened(FileHandle(0), FopenFlags::empty()),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let state = self.state();
        if state.cut {
            return reply.error(Errno::EIO);
        }
        match state.nodes.get(&ino.0).map(|n| &n.kind) {
            Some(Kind::File { data, .. }) => {
                let start = (offset as usize).min(data.len());
                let end = (start + size as usize).min(data.len());
                reply.data(&data[start..end]);
            }
            Some(Kind::Dir { .. }) => reply.error(Errno::EISDIR),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        bytes: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut state = self.state();
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        match state.nodes.get_mut(&ino.0) {
            Some(Node {
                kind: Kind::File { data, dirty, .. },
                mtime,
                ..
            }) => {
                let offset = offset as usize;
                let end = offset + bytes.len();
                let lo = offset.min(data.len());
                if data.len() < end {
                    data.resize(end, 0);
                }
                data[offset..end].copy_from_slice(bytes);
                *dirty = Some(dirty.map_or((lo, end), |(a, b)| (a.min(lo), b.max(end))));
                *mtime = SystemTime::now();
                reply.written(bytes.len() as u32);
            }
            Some(_) => reply.error(Errno::EISDIR),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        state.sync(ino.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        state.sync(ino.0);
        reply.ok();
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        if mode != 0 {
            return reply.error(Errno::EOPNOTSUPP);
        }
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        let wanted = (offset + length) as usize;
        let len = match state.nodes.get(&ino.0).map(|n| &n.kind) {
            Some(Kind::File { data, .. }) => data.len(),
            _ => return reply.error(Errno::EISDIR),
        };
        if wanted > len {
            state.set_len(ino.0, wanted);
        }
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.state().nodes.get(&ino.0).map(|n| &n.kind) {
            Some(Kind::Dir { .. }) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Some(_) => reply.error(Errno::ENOTDIR),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let state = self.state();
        let Some(Kind::Dir { entries, .. }) = state.nodes.get(&ino.0).map(|n| &n.kind) else {
            return reply.error(Errno::ENOTDIR);
        };
        let mut listing: Vec<(u64, FileType, OsString)> = vec![
            (ino.0, FileType::Directory, ".".into()),
            (1, FileType::Directory, "..".into()),
        ];
        for (name, child) in entries {
            let kind = match state.nodes.get(child).map(|n| &n.kind) {
                Some(Kind::Dir { .. }) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            listing.push((*child, kind, name.clone()));
        }
        for (index, (child, kind, name)) in listing.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(child), (index + 1) as u64, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(1 << 24, 1 << 23, 1 << 23, 1 << 20, 1 << 19, 4096, 255, 4096);
    }
}

impl Fs {
    fn remove(&self, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut state = self.state();
        if !state.tick() {
            return reply.error(Errno::EIO);
        }
        if let Some(ino) = state.lookup(parent.0, name)
            && let Some(Kind::Dir { entries, .. }) = state.nodes.get(&ino).map(|n| &n.kind)
            && !entries.is_empty()
        {
            return reply.error(Errno::ENOTEMPTY);
        }
        match state.nodes.get_mut(&parent.0).map(|n| &mut n.kind) {
            Some(Kind::Dir { entries, .. }) => match entries.remove(name) {
                Some(_) => reply.ok(),
                None => reply.error(Errno::ENOENT),
            },
            _ => reply.error(Errno::ENOTDIR),
        }
    }
}

/// The mounted file system and its state, which outlives each mount.
pub struct PowerFs {
    state: Arc<Mutex<State>>,
    mountpoint: PathBuf,
    session: Option<fuser::BackgroundSession>,
}

impl PowerFs {
    /// Mounts an empty file system at `mountpoint`; with `lying`, fsync makes nothing durable.
    pub fn mount(mountpoint: &Path, lying: bool) -> Self {
        let mut state = State::new();
        state.lying = lying;
        let mut fs = PowerFs {
            state: Arc::new(Mutex::new(state)),
            mountpoint: mountpoint.to_path_buf(),
            session: None,
        };
        fs.remount();
        fs
    }

    fn remount(&mut self) {
        let mut config = Config::default();
        config.mount_options = vec![
            MountOption::FSName("registre-powerfs".into()),
            MountOption::RW,
        ];
        let session = fuser::spawn_mount(
            Fs {
                state: self.state.clone(),
            },
            &self.mountpoint,
            &config,
        )
        .unwrap_or_else(|e| {
            panic!(
                "cannot mount the power-loss file system at {} (needs /dev/fuse and root): {e}",
                self.mountpoint.display()
            )
        });
        self.session = Some(session);
    }

    /// The power goes at the `operation`-th mutating operation from now (1-based).
    pub fn cut_at(&self, operation: u64) {
        let mut state = self.state.lock().unwrap();
        state.cut_at = Some(state.operations + operation.max(1));
    }

    /// The power goes now, if it has not gone yet.
    pub fn cut_now(&self) {
        self.state.lock().unwrap().cut = true;
    }

    /// Whether the power went, and how many mutating operations were done before.
    pub fn status(&self) -> (bool, u64) {
        let state = self.state.lock().unwrap();
        (state.cut, state.operations)
    }

    /// After the processes on it are gone: unmounts, keeps only what was durable, mounts
    /// again (a fresh mount, so nothing of the kernel's caches survives either).
    pub fn restart_after_power_cut(&mut self) {
        self.cut_now();
        if let Some(session) = self.session.take() {
            session
                .umount_and_join()
                .expect("unmount the power-loss file system");
        }
        self.state.lock().unwrap().power_cut();
        self.remount();
    }
}

impl Drop for PowerFs {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}
