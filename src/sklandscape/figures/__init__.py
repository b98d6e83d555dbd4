"""Drawing: tables and arrays in, matplotlib Figures out. Computes nothing of its own
and reads no files (matplotlib's object-oriented API; pyplot is never imported).

May import the layers below it for constants and labels; never sklandscape.io, the public API
or the pipeline.
"""
