"""`python -m mrc_employer.worker`: the event consumer process (compliance histories)."""

from mrc_employer.entrypoints.consumer import main

if __name__ == "__main__":
    main()
