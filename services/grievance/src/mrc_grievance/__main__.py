from mrc_grievance.entrypoints.process import main

main()
