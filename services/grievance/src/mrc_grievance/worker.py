"""`python -m mrc_grievance.worker`: the event consumer process (registry erasures and merges)."""

from mrc_grievance.entrypoints.consumer import main

if __name__ == "__main__":
    main()
