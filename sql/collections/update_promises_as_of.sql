-- The settled promises kept by a rebuild stand at its night too.
update promises set as_of_night = cast($as_of as date)
