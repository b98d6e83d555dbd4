"""What the Snakefile checks while it parses, before any job starts or any file is written.

`validation` checks a config against the schema (every problem, each with its key path) and
then what only the data can tell (feature names, rows, weight names); `files` loads config
files strictly (a key given twice is an error); `dataset_facts` reads what those checks need
of each dataset, cached for scikit-learn's bundled sets; `resources` estimates each job's
memory from the config alone and compares it with the machine's.
"""
