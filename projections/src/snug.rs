//! Growing history lists by a quarter rather than doubling. A household's history gains a few
//! entries over years and a practice's change list millions, and doubling left up to half of
//! every list spare (a fifth of the model, measured by `--bench memory`). Growth stays
//! geometric, so a push still costs amortised constant time.

pub fn push<T>(list: &mut Vec<T>, item: T) {
    make_room(list);
    list.push(item);
}

/// As [`push`], for an insertion at `index`.
pub fn insert<T>(list: &mut Vec<T>, index: usize, item: T) {
    make_room(list);
    list.insert(index, item);
}

fn make_room<T>(list: &mut Vec<T>) {
    if list.len() == list.capacity() {
        list.reserve_exact((list.len() / 4).max(2));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_keep_at_most_a_quarter_spare_and_their_order() {
        let mut list = Vec::new();
        for n in 0..10_000 {
            super::push(&mut list, n);
            assert!(list.capacity() <= list.len() + (list.len() / 4).max(2));
        }
        super::insert(&mut list, 0, -1);
        assert_eq!(list[..3], [-1, 0, 1]);
        assert_eq!(list.len(), 10_001);
    }
}
