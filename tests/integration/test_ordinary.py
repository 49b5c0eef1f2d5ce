# SPDX-License-Identifier: MIT
"""Ordinary files under the mount behave as on the file system underneath,
the way libfuse's passthrough_ll serves a folder: folders, symbolic and
hard links, FIFOs, sockets and device nodes; ownership and permissions for
a second user on a mount with allow_other."""
import ctypes
import errno
import os
import pwd
import socket
import stat
import subprocess
import threading

import pytest

from conftest import read, write

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture
def shared(demo, mount_factory, workdir):
    """The demo mounted with allow_other, the folders on the way open to
    everyone; returns (mount, taskctl, session)."""
    if os.geteuid() != 0:
        pytest.skip("a second user needs root")
    ctl, session = demo
    os.chmod(workdir, 0o755)
    m = mount_factory(ctl.db, options=["-o", "allow_other"])
    return m, ctl, session


def as_nobody(*cmd, check=True):
    """Runs cmd as the user nobody (no supplementary groups)."""
    def drop():
        os.setgroups([])
        os.setgid(NOBODY.pw_gid)
        os.setuid(NOBODY.pw_uid)
    p = subprocess.run(list(cmd), preexec_fn=drop, capture_output=True,
                       text=True, timeout=30)
    if check and p.returncode != 0:
        raise AssertionError("%s as nobody: %s" % (cmd, p.stderr))
    return p


def test_hard_links_are_one_file(mounted):
    m, ctl, session = mounted
    a, b = m.path(session, "a.txt"), m.path(session, "notes", "b.txt")
    write(a, "one file\n")
    os.link(a, b)
    sa, sb = os.stat(a), os.stat(b)
    assert sa.st_ino == sb.st_ino
    assert sa.st_nlink == sb.st_nlink == 2
    os.chmod(a, 0o600)
    assert stat.S_IMODE(os.stat(b).st_mode) == 0o600
    with open(b, "a") as f:
        f.write("two names\n")
    assert read(a) == "one file\ntwo names\n"
    os.unlink(a)
    assert os.stat(b).st_nlink == 1
    assert read(b) == "one file\ntwo names\n"
    # Underneath, after unmount, as it was made.
    assert m.unmount() == 0
    under = os.path.join(m.mnt, session, "notes", "b.txt")
    assert os.stat(under).st_nlink == 1 and read(under).endswith("names\n")


def test_rename_keeps_the_inode(mounted):
    m, ctl, session = mounted
    a, b = m.path(session, "x.txt"), m.path(session, "y.txt")
    write(a, "moving\n")
    ino = os.stat(a).st_ino
    os.rename(a, b)
    assert os.stat(b).st_ino == ino
    os.mkdir(m.path(session, "d"))
    os.rename(b, m.path(session, "d", "z.txt"))
    assert os.stat(m.path(session, "d", "z.txt")).st_ino == ino
    assert read(m.path(session, "d", "z.txt")) == "moving\n"


def test_symbolic_links(mounted):
    m, ctl, session = mounted
    target = m.path(session, "target.txt")
    write(target, "pointed at\n")
    link = m.path(session, "link")
    os.symlink("target.txt", link)
    assert os.readlink(link) == "target.txt"
    assert stat.S_ISLNK(os.lstat(link).st_mode)
    assert read(link) == "pointed at\n"
    # A link to a generated file reads the generated file.
    os.symlink("session.md", m.path(session, "overview"))
    assert read(m.path(session, "overview")) == read(
        m.path(session, "session.md"))


def test_fifo(mounted):
    m, ctl, session = mounted
    path = m.path(session, "pipe")
    os.mkfifo(path)
    assert stat.S_ISFIFO(os.stat(path).st_mode)
    got = []
    reader = threading.Thread(target=lambda: got.append(read(path)))
    reader.start()
    write(path, "through the pipe\n")
    reader.join(timeout=10)
    assert got == ["through the pipe\n"]


def test_unix_socket(mounted):
    m, ctl, session = mounted
    path = m.path(session, "sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    try:
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)
        conn, _ = server.accept()
        client.sendall(b"hello")
        assert conn.recv(5) == b"hello"
        conn.close()
        client.close()
    finally:
        server.close()
    os.unlink(path)


def test_device_nodes(demo, mount_factory):
    """Made and shown as underneath; usable on a mount with -o dev (FUSE
    mounts are nodev unless told otherwise, as mount(8) documents)."""
    if os.geteuid() != 0:
        pytest.skip("mknod of a device needs root")
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "dev"])
    null = m.path(session, "null")
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    st = os.stat(null)
    assert stat.S_ISCHR(st.st_mode)
    assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3)
    write(null, "into the void\n")
    assert read(null) == ""
    blk = m.path(session, "blk")
    os.mknod(blk, 0o600 | stat.S_IFBLK, os.makedev(7, 200))
    assert stat.S_ISBLK(os.stat(blk).st_mode)
    assert os.stat(blk).st_rdev == os.makedev(7, 200)


def test_device_nodes_on_a_nodev_mount(mounted):
    m, ctl, session = mounted
    if os.geteuid() != 0:
        pytest.skip("mknod of a device needs root")
    null = m.path(session, "null")
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    assert stat.S_ISCHR(os.stat(null).st_mode)
    with pytest.raises(PermissionError):
        open(null, "w")


def test_device_node_needs_the_capability(shared):
    m, ctl, session = shared
    d = m.path(session, "open")
    os.mkdir(d)
    os.chmod(d, 0o1777)
    p = as_nobody("mknod", os.path.join(d, "null"), "c", "1", "3",
                  check=False)
    assert p.returncode != 0 and "Operation not permitted" in p.stderr


def test_second_user_owns_what_they_make(shared):
    """In a folder open to all (1777, like /tmp), what another user makes
    is theirs, and they can go on using it."""
    m, ctl, session = shared
    d = m.path(session, "open")
    os.mkdir(d)
    os.chmod(d, 0o1777)
    mine = os.path.join(d, "mine")
    as_nobody("touch", mine)
    st = os.stat(mine)
    assert (st.st_uid, st.st_gid) == (NOBODY.pw_uid, NOBODY.pw_gid)
    as_nobody("touch", "-d", "2001-01-01", mine)
    as_nobody("sh", "-c", "echo written >> " + mine)
    assert read(mine) == "written\n"
    as_nobody("chmod", "600", mine)
    assert stat.S_IMODE(os.stat(mine).st_mode) == 0o600
    sub = os.path.join(d, "sub")
    as_nobody("mkdir", sub)
    as_nobody("ln", "-s", "mine", os.path.join(d, "link"))
    assert os.stat(sub).st_uid == NOBODY.pw_uid
    assert os.lstat(os.path.join(d, "link")).st_uid == NOBODY.pw_uid
    # The sticky bit: nobody cannot remove root's file, root's stays.
    write(os.path.join(d, "roots"), "root's\n")
    p = as_nobody("rm", "-f", os.path.join(d, "roots"), check=False)
    assert p.returncode != 0
    assert os.path.exists(os.path.join(d, "roots"))
    # Underneath, the same owners.
    assert m.unmount() == 0
    assert os.stat(os.path.join(m.mnt, session, "open", "mine")).st_uid == \
        NOBODY.pw_uid


def test_set_group_id_folder_gives_its_group(shared):
    m, ctl, session = shared
    d = m.path(session, "team")
    os.mkdir(d)
    os.chown(d, 0, 100)
    os.chmod(d, 0o2777)
    as_nobody("touch", os.path.join(d, "f"))
    st = os.stat(os.path.join(d, "f"))
    assert (st.st_uid, st.st_gid) == (NOBODY.pw_uid, 100)


def test_permissions_hold_for_another_user(shared):
    m, ctl, session = shared
    secret = m.path(session, "secret.txt")
    write(secret, "root only\n")
    os.chmod(secret, 0o600)
    p = as_nobody("cat", secret, check=False)
    assert p.returncode != 0 and "Permission denied" in p.stderr
    os.chmod(secret, 0o644)
    assert as_nobody("cat", secret).stdout == "root only\n"
    p = as_nobody("sh", "-c", "echo no >> " + secret, check=False)
    assert p.returncode != 0 and "Permission denied" in p.stderr
    # A generated file of the daemon's user is not another user's to
    # edit either.
    p = as_nobody("sh", "-c", "echo x >> " + m.path(
        session, "notes", "decisions.md"), check=False)
    assert p.returncode != 0 and "Permission denied" in p.stderr
    assert "decisions" in as_nobody(
        "cat", m.path(session, "notes", "decisions.md")).stdout.lower()


def test_utimens_and_chown_by_owner(mounted):
    m, ctl, session = mounted
    path = m.path(session, "times.txt")
    write(path, "x\n")
    os.utime(path, (1000000000, 1000000000))
    assert os.stat(path).st_mtime == 1000000000
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    assert os.stat(path).st_uid == NOBODY.pw_uid
    fd = os.open(path, os.O_RDWR)
    try:
        os.ftruncate(fd, 0)
        os.fchmod(fd, 0o640)
    finally:
        os.close(fd)
    st = os.stat(path)
    assert st.st_size == 0 and stat.S_IMODE(st.st_mode) == 0o640


def renameat2(src, dst, flags):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.renameat2(-100, src.encode(), -100, dst.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2


def test_rename_exchange_and_noreplace(mounted):
    m, ctl, session = mounted
    a, b = m.path(session, "a"), m.path(session, "b")
    write(a, "A")
    write(b, "B")
    ia, ib = os.stat(a).st_ino, os.stat(b).st_ino
    renameat2(a, b, RENAME_EXCHANGE)
    assert (read(a), read(b)) == ("B", "A")
    assert (os.stat(a).st_ino, os.stat(b).st_ino) == (ib, ia)
    with pytest.raises(OSError) as e:
        renameat2(a, b, RENAME_NOREPLACE)
    assert e.value.errno == errno.EEXIST
    renameat2(a, m.path(session, "c"), RENAME_NOREPLACE)
    assert read(m.path(session, "c")) == "B"
