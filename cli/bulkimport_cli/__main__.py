from bulkimport_cli.main import main

main()
