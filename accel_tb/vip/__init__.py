"""Reusable cocotb verification components, nothing about this core: valid/ready sources and sinks with pause
generators, the keyed scoreboard, clock/reset/pin helpers.

    ports       valid/ready drivers and monitors (cocotb-bus), pause generators, the ready driver
    scoreboard  expectations by key, matched as observations appear, every mismatching lane reported
    sim         clock, reset, cycle count, lane splitting
"""
