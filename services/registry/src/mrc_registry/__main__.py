from mrc_registry.entrypoints.process import main

main()
