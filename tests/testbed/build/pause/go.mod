module nebari.platform/testbed/pause

go 1.26.0
