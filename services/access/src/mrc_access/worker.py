"""`python -m mrc_access.worker`: the audit trail consumer process."""

from mrc_access.entrypoints.consumer import main

if __name__ == "__main__":
    main()
