from mrc_entitlements.entrypoints.process import main

main()
