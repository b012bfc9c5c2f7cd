"""An example of a clustering method that lives outside deepclust and runs through its workflow."""
