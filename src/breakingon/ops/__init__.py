"""Operations: health and metrics routes, retention, backup and restore, WARC archives.

The operator's tools around the pipeline. These modules use the store through its
interface; they never run a stage's computation themselves except where an archive is
ingested through the shared article path.
"""
