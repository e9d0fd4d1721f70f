"""The generation room: batches of generated pieces on the gpu queue, their review under the
validity rules, the validity audit and the grid search. Only here is ``composer`` imported, inside
functions, so that web processes never load torch."""
