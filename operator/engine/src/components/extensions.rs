//! A typed map with one value per type: builder-private build state. A builder's steps
//! share the builder's own state struct through it (`state.private.get_or_default::<
//! QemuState>()`), instead of a string-keyed bag of JSON.

use std::any::{Any, TypeId};
use std::collections::HashMap;

#[derive(Default)]
pub struct Extensions(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl Extensions {
    /// Stores a value, returning the previous one of that type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) -> Option<T> {
        self.0
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|b| b.downcast::<T>().ok().map(|b| *b))
    }

    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|b| b.downcast_ref())
    }

    pub fn get_mut<T: Any + Send + Sync>(&mut self) -> Option<&mut T> {
        self.0
            .get_mut(&TypeId::of::<T>())
            .and_then(|b| b.downcast_mut())
    }

    /// The value of type `T`, inserted with its default when absent.
    pub fn get_or_default<T: Any + Send + Sync + Default>(&mut self) -> &mut T {
        self.0
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut()
            .expect("the entry of TypeId::of::<T>() holds a T")
    }

    pub fn remove<T: Any + Send + Sync>(&mut self) -> Option<T> {
        self.0
            .remove(&TypeId::of::<T>())
            .and_then(|b| b.downcast::<T>().ok().map(|b| *b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct Disk {
        path: String,
    }

    #[test]
    fn one_value_per_type() {
        let mut e = Extensions::default();
        assert!(e.get::<Disk>().is_none());
        e.get_or_default::<Disk>().path = "a.qcow2".into();
        assert_eq!(e.get::<Disk>().unwrap().path, "a.qcow2");
        assert_eq!(e.insert(7u16), None);
        assert_eq!(e.insert(8u16), Some(7));
        assert_eq!(
            e.remove::<Disk>(),
            Some(Disk {
                path: "a.qcow2".into()
            })
        );
        assert_eq!(e.get::<u16>(), Some(&8));
    }
}
