"""Fake or real?: fakes and their decks, detectors, the solo game and leaderboard, rooms and their feed, in SQL."""
