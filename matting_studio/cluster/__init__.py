"""Whole shoots on a Dask cluster: ``matting-studio cutout IN... -o DIR --dask ADDRESS``.

The same pipeline as a local batch (:mod:`matting_studio.core.batch`), one Dask task per photo:

* :mod:`.remote` lists, reads and writes photos named by fsspec URLs and plans a batch whose
  inputs or outputs are URLs (no Dask needed);
* :mod:`.worker` is what runs on a worker: its one-time set-up (a photo slot, the core's
  thread budget) and one photo's task;
* :mod:`.driver` is the client: it connects (or starts a local cluster), submits the photos
  a bounded window at a time, writes the outputs that come back, shows the progress bar and
  writes the report.

Importing this package does not import Dask (``pip install "matting-studio[dask]"`` brings it).
See docs/cluster.md for running a real cluster.
"""
