"""Capacity planning: will tonight's backups fit the tapes they will get, and when will they stop fitting.

- estimate: the expected bytes of each job's next run, from its source (XO VDI sizes, the remote's chain
  files, the file tree times the compression seen before), each with the basis it rests on.
- space: the tape each job will get (the job's own tape choice) and the room on it: fits, tight, spills, no tape.
- history, trend, forecast: bytes per night from finished runs, a linear least-squares trend, the night the
  sets outgrow one tape, and the chain depth or retention that would make them fit.
- plan: all of it for every job, as the API, the CLI and the console show it.
- day_ahead: the daemon's daily check that warns when tomorrow's run will not fit the tape it gets.
"""
