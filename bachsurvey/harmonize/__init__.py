"""The public harmonizer (/harmonize/): a visitor's melody checked in the web process (music21,
never torch), harmonized by a task on the gpu queue (in-process without a broker), and served
from URLs of its own until it expires. With bachsurvey.generation, the rooms that reach composer,
each inside its functions, so that importing them costs a web process nothing."""
