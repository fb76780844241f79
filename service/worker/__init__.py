"""The Faust worker around the pipeline: app, agent, batching, scoring off the loop,
model reload, web views, metrics, and our departures from Faust (faust_fixes).
"""
