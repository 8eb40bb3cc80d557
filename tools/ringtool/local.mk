# ringtool: util, ring (+ libyaml).
