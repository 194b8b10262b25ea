//! The ready heap: which step of a plan runs next.
//!
//! A step becomes ready once every step it depends on is done; among the
//! ready steps the one of lowest rank is taken. Both ways a plan is run go
//! through this one type: [`Plan::sequential_order`] (what one session runs,
//! and what `--dry-run` prints) and the executor's shared board (module
//! `execute`), which takes steps from it under its lock. With one
//! implementation the printed order and the order a single session really
//! runs cannot drift apart.
//!
//! The rank is opaque here (any `Ord`; the planner chooses it, see
//! [`super::plan::Rank`]) and the step's id breaks ties, so the order is fully
//! determined by the plan. The type is plain data without locking or
//! knowledge of steps: the executor keeps it under its own mutex together
//! with what only it needs (steps running, the first failure).
//!
//! [`Plan::sequential_order`]: super::plan::Plan::sequential_order

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Per step (by position), the steps whose `deps` name it.
pub(crate) fn dependents<'a>(deps: impl ExactSizeIterator<Item = &'a [usize]>) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); deps.len()];
    for (id, deps) in deps.enumerate() {
        for &d in deps {
            out[d].push(id);
        }
    }
    out
}

/// The steps not yet taken, and which of them are ready.
#[derive(Debug)]
pub(crate) struct Schedule<R> {
    /// Per step, how many of its dependencies are not done yet.
    waiting: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ranks: Vec<R>,
    ready: BinaryHeap<Reverse<(R, usize)>>,
    /// Steps marked done so far.
    done: usize,
}

impl<R: Ord + Copy> Schedule<R> {
    /// A schedule for `steps`: per step, by id, its rank and the ids of the
    /// steps it depends on.
    pub fn new(steps: &[(R, &[usize])]) -> Self {
        let ready = steps
            .iter()
            .enumerate()
            .filter(|(_, (_, deps))| deps.is_empty())
            .map(|(id, &(rank, _))| Reverse((rank, id)))
            .collect();
        Schedule {
            waiting: steps.iter().map(|(_, deps)| deps.len()).collect(),
            dependents: dependents(steps.iter().map(|(_, deps)| *deps)),
            ranks: steps.iter().map(|&(rank, _)| rank).collect(),
            ready,
            done: 0,
        }
    }

    /// Takes the ready step of lowest rank, if any is ready.
    pub fn take(&mut self) -> Option<usize> {
        self.ready.pop().map(|Reverse((_, id))| id)
    }

    /// Marks step `id` (taken before) done, which makes ready the steps that
    /// were waiting only for it.
    pub fn done(&mut self, id: usize) {
        self.done += 1;
        for &d in &self.dependents[id] {
            self.waiting[d] -= 1;
            if self.waiting[d] == 0 {
                self.ready.push(Reverse((self.ranks[d], d)));
            }
        }
    }

    /// Whether every step is done.
    pub fn finished(&self) -> bool {
        self.done == self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_ready_step_of_lowest_rank_and_releases_its_dependents() {
        // 0 and 1 are ready; 2 waits for both, 3 for 0 only.
        let steps: [(u8, &[usize]); 4] = [(5, &[]), (1, &[]), (0, &[0, 1]), (9, &[0])];
        let mut s = Schedule::new(&steps);
        assert_eq!(s.take(), Some(1));
        s.done(1);
        assert_eq!(s.take(), Some(0));
        assert_eq!(s.take(), None, "2 and 3 still wait for 0");
        s.done(0);
        assert_eq!(s.take(), Some(2));
        assert_eq!(s.take(), Some(3));
        assert!(!s.finished());
        s.done(3);
        s.done(2);
        assert!(s.finished());
        assert_eq!(
            dependents(steps.iter().map(|(_, d)| *d)),
            [vec![2, 3], vec![2], vec![], vec![]]
        );
    }
}
