"""``relulab compare``: placeholder until the lab lands."""
def register(subparsers):
    pass
