"""The quiz room: the participants' page and API, their answers, clips and results."""
