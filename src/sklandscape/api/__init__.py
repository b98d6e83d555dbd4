"""The public API: one function per landscape kind and analysis, each taking a fitted
scikit-learn MLP (or a sklandscape Network) and its data, and returning a result that holds the
tidy table (`.frame`), its metadata, its summary metrics, `.plot()` and `.to_parquet(path)`.

The pipeline's stages call these same functions (one implementation, two front doors), so a
table made in a notebook equals the pipeline's byte for byte. Imports every layer below it
(model, data, engine, directions, analyses, figures) and sklandscape.io; never the pipeline or
mlflow.
"""
