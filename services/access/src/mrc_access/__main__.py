from mrc_access.entrypoints.process import main

main()
