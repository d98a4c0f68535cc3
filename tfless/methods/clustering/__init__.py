"""clustering methods; `CLUSTERING_METHODS` is merged into `tfless.methods.METHODS`."""

CLUSTERING_METHODS: dict = {}
