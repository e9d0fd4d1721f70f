"""The researchers' room: statistics, plots, the dashboard, the results API and the exports."""
