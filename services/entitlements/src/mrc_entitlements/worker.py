"""`python -m mrc_entitlements.worker`: the event consumer process."""

from mrc_entitlements.entrypoints.consumer import main

if __name__ == "__main__":
    main()
