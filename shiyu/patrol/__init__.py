"""Patrols and visits (巡查/走访) by grid workers, and their online presence for the appraisal."""
