from mrc_employer.entrypoints.process import main

main()
