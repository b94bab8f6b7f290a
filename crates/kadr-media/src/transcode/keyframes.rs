//! The keyframe clock: the same keyframe times in every rung.

/// Forces a keyframe at every multiple of the GOP length, by timestamp, so every rung has its
/// keyframes at the same times whatever the frame rate; also where the muxer makes its first two
/// cuts (`first_segment`, twice that), which need not lie on that grid.
pub(super) struct KeyframeClock {
    every: f64,
    /// Offsets from the first picture still to be forced off the grid, ascending.
    extra: Vec<f64>,
    start: Option<f64>,
    next: f64,
}

impl KeyframeClock {
    pub(super) fn new(every: f64, first_segment: f64) -> Self {
        let mut extra: Vec<f64> = [first_segment, first_segment * 2.0]
            .into_iter()
            .filter(|e| *e > 0.0 && ((e / every) - (e / every).round()).abs() > 1e-6)
            .collect();
        extra.dedup();
        KeyframeClock {
            every,
            extra,
            start: None,
            next: 0.0,
        }
    }

    pub(super) fn is_key(&mut self, secs: f64) -> bool {
        let Some(start) = self.start else {
            self.start = Some(secs);
            self.next = secs + self.every;
            return true;
        };
        let due = self.extra.len();
        self.extra.retain(|e| secs < start + e - 1e-3);
        let mut key = self.extra.len() != due;
        while secs >= self.next - 1e-3 {
            self.next += self.every;
            key = true;
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use super::KeyframeClock;

    fn keys(clock: &mut KeyframeClock, fps: f64, secs: f64) -> Vec<f64> {
        let mut out = Vec::new();
        let mut n = 0u32;
        loop {
            let t = 0.5 + f64::from(n) / fps;
            if t - 0.5 > secs {
                return out;
            }
            if clock.is_key(t) {
                out.push(((t - 0.5) * 1000.0).round() / 1000.0);
            }
            n += 1;
        }
    }

    #[test]
    fn keyframes_on_the_grid_and_at_the_first_cuts() {
        assert_eq!(
            keys(&mut KeyframeClock::new(2.0, 2.0), 30.0, 9.0),
            [0.0, 2.0, 4.0, 6.0, 8.0]
        );
        assert_eq!(
            keys(&mut KeyframeClock::new(2.0, 1.0), 30.0, 7.0),
            [0.0, 1.0, 2.0, 4.0, 6.0]
        );
        assert_eq!(
            keys(&mut KeyframeClock::new(2.0, 1.5), 10.0, 5.0),
            [0.0, 1.5, 2.0, 3.0, 4.0]
        );
        // A gap in the timestamps: one keyframe, then the grid again.
        let mut clock = KeyframeClock::new(2.0, 2.0);
        assert!(clock.is_key(0.0));
        assert!(!clock.is_key(1.0));
        assert!(clock.is_key(5.1));
        assert!(!clock.is_key(5.9));
        assert!(clock.is_key(6.0));
    }
}
