#!/usr/bin/python3
"""
tests/bench/genpolicy.py — write a large, valid muxgate policy.

    genpolicy.py OUT --identities N [--keys-per-identity K] [--seed S]

OUT gets a policy with one local host `bastion` (tmux user root), one role
`bench` (list and attach on it), and N identities named id000000,
id000001, ..., each holding K distinct ed25519 public keys and the role.
OUT.pubkeys gets one line "NAME TYPE BASE64" per key, in file order, so that
a benchmark can pick a key (the last one is the slowest to find by a
linear search) without parsing YAML.

The keys are made here, without ssh-keygen: an ed25519 public key line is
"ssh-ed25519 BASE64", where the blob is the string "ssh-ed25519" and 32
bytes of key, each prefixed by its length as a big-endian uint32.  The
32 bytes come from random.Random(SEED), so one seed always writes the
same file; they are not points of the curve, which muxgate never checks
(it compares keys, it does not verify signatures with them).

Both files are written to a temporary name in OUT's directory and renamed,
mode 0644 and owned by the user running this, since muxgate refuses a
policy that its group or others can write.  Standard library only.
"""
import argparse
import base64
import os
import random
import struct
import sys

KEYTYPE = b"ssh-ed25519"

HEADER = """\
# muxgate benchmark policy (tests/bench/genpolicy.py): {n} identities,
# {k} key(s) each, seed {seed}
gateway:
  audit: none
hosts:
  bastion:
    local: true
    tmux_users: [root]
roles:
  bench:
    allow:
      - hosts: [bastion]
        tmux_users: [root]
        actions: [list, attach]
identities:
"""


def ed25519_b64(rng):
    """The base64 of an ed25519 public key blob with random key bytes."""
    blob = (struct.pack(">I", len(KEYTYPE)) + KEYTYPE +
            struct.pack(">I", 32) + bytes(rng.getrandbits(8)
                                          for _ in range(32)))
    return base64.b64encode(blob).decode("ascii")


def write_file(path, text):
    """Write TEXT to PATH through a temporary name, mode 0644."""
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "w") as f:
            # The umask may have taken bits away; group and others must
            # not be able to write either way.
            os.fchmod(f.fileno(), 0o644)
            f.write(text)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def generate(n, k, seed):
    """The policy text and the key list text."""
    rng = random.Random(seed)
    seen = set()
    policy = [HEADER.format(n=n, k=k, seed=seed)]
    keys = []
    for i in range(n):
        name = "id%06d" % i
        policy.append("  %s:\n    keys:\n" % name)
        for _ in range(k):
            b64 = ed25519_b64(rng)
            # A key shared by two identities is a policy error; 32 random
            # bytes never repeat in practice, but make sure.
            while b64 in seen:
                b64 = ed25519_b64(rng)
            seen.add(b64)
            policy.append("      - ssh-ed25519 %s %s\n" % (b64, name))
            keys.append("%s ssh-ed25519 %s\n" % (name, b64))
        policy.append("    roles: [bench]\n")
    return "".join(policy), "".join(keys)


def main():
    ap = argparse.ArgumentParser(
        description="Write a muxgate policy with many identities, and "
        "OUT.pubkeys with their keys.")
    ap.add_argument("out", metavar="OUT", help="the policy file to write")
    ap.add_argument("--identities", type=int, required=True, metavar="N")
    ap.add_argument("--keys-per-identity", type=int, default=1,
                    metavar="K")
    ap.add_argument("--seed", type=int, default=1, metavar="S")
    args = ap.parse_args()
    if args.identities < 1 or args.identities > 1000000:
        ap.error("--identities: expected 1 to 1000000")
    if args.keys_per_identity < 1 or args.keys_per_identity > 100:
        ap.error("--keys-per-identity: expected 1 to 100")
    policy, keys = generate(args.identities, args.keys_per_identity,
                            args.seed)
    try:
        write_file(args.out, policy)
        write_file(args.out + ".pubkeys", keys)
    except OSError as e:
        print("genpolicy.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
