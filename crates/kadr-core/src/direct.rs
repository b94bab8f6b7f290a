//! The rules of direct uploads: the client sends the parts of an S3 multipart upload straight
//! to storage with presigned URLs, and the upload API only plans, checks and completes it.
//!
//! The plan is fixed when the upload is created (its length is declared then, and the quota
//! reserved for it): every part but the last has `part_size` bytes. Completion accepts the
//! stored parts only if they are exactly that plan, so a client can neither store more than
//! it declared nor hand in a file with a hole.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::codes::Code;
use crate::error::DomainError;
use crate::state::UploadState;

/// S3 allows at most this many parts in one upload.
pub const MAX_PARTS: i64 = 10_000;
/// Every part but the last is at least this large (S3's minimum).
pub const MIN_PART: i64 = 5 * 1024 * 1024;
const MIB: i64 = 1024 * 1024;
/// Presigned part URLs handed out per request at most.
pub const MAX_URLS_PER_REQUEST: usize = 100;

/// ⌈a / b⌉ for positive numbers (i64::div_ceil is not stable).
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// How a file of a given length is cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub length: i64,
    pub part_size: i64,
    pub count: i32,
}

impl PartPlan {
    /// Parts of `preferred` bytes (at least 5 MiB), larger when the file would need more than
    /// 10,000 of them (then a whole number of MiB). The length is checked against the limits
    /// before; an empty file is refused (a direct upload has at least one part).
    pub fn new(length: i64, preferred: i64) -> Result<PartPlan, DomainError> {
        if length <= 0 {
            return Err(DomainError::refused(
                Code::InvalidUploadLength,
                "A direct upload needs the file's size in bytes, at least 1",
            ));
        }
        let mut part_size = preferred.max(MIN_PART);
        if ceil_div(length, part_size) > MAX_PARTS {
            part_size = ceil_div(ceil_div(length, MAX_PARTS), MIB) * MIB;
        }
        let count = ceil_div(length, part_size);
        Ok(PartPlan {
            length,
            part_size,
            count: i32::try_from(count).unwrap_or(i32::MAX),
        })
    }

    /// The size part `n` (1-based) must have.
    pub fn size_of(&self, n: i32) -> i64 {
        if n < self.count {
            self.part_size
        } else {
            self.length - self.part_size * i64::from(self.count - 1)
        }
    }

    /// Whether `n` is a part number of this plan.
    pub fn has(&self, n: i32) -> bool {
        (1..=self.count).contains(&n)
    }

    /// One listed entry per part number: one of the planned size (the later listed if
    /// several), else the later listed. (Some S3 servers, SeaweedFS 4.48 among them, keep
    /// every copy of a part sent again, not always in the order sent.)
    /// Returns indexes into `stored`, by part number.
    pub fn pick(&self, stored: &[(i32, u64)]) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::new();
        for (i, &(n, size)) in stored.iter().enumerate() {
            let fits = self.has(n) && size == self.size_of(n) as u64;
            match chosen.iter_mut().find(|c| stored[**c].0 == n) {
                Some(c) => {
                    let held = stored[*c];
                    let held_fits = self.has(held.0) && held.1 == self.size_of(held.0) as u64;
                    if fits || !held_fits {
                        *c = i;
                    }
                }
                None => chosen.push(i),
            }
        }
        chosen.sort_by_key(|i| stored[*i].0);
        chosen
    }

    /// Accepts the stored parts (number, size; one per number, see [`PartPlan::pick`]) only
    /// when they are exactly the plan: every part there, each of its size, none beyond. The
    /// error names what is wrong.
    pub fn check(&self, stored: &[(i32, u64)]) -> Result<(), DomainError> {
        if let Some((n, size)) = stored.iter().find(|(n, _)| !self.has(*n)) {
            return Err(DomainError::refused(
                Code::PartMismatch,
                "A part of the upload is not in its plan",
            )
            .detail(format!(
                "part {n} ({size} bytes) is beyond the {} parts planned",
                self.count
            )));
        }
        let mut have = vec![false; usize::try_from(self.count).unwrap_or(0)];
        for &(n, size) in stored {
            let expected = self.size_of(n);
            if size != expected as u64 {
                return Err(DomainError::refused(
                    Code::PartMismatch,
                    "A part of the upload has the wrong size",
                )
                .detail(format!(
                    "part {n} has {size} bytes; it must have {expected}"
                )));
            }
            if let Some(slot) = have.get_mut((n - 1) as usize) {
                *slot = true;
            }
        }
        let missing: Vec<String> = have
            .iter()
            .enumerate()
            .filter(|(_, h)| !**h)
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        if !missing.is_empty() {
            let shown = missing
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if missing.len() > 20 {
                format!(" and {} more", missing.len() - 20)
            } else {
                String::new()
            };
            return Err(DomainError::refused(
                Code::UploadIncomplete,
                "Parts of the upload are missing",
            )
            .detail(format!("missing parts: {shown}{more}")));
        }
        Ok(())
    }
}

/// Takes the right to complete a direct upload for `lease_secs`: `Some(token)` when it is
/// active, the caller's, and nobody else is completing it now.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    upload_id: Uuid,
    owner: Uuid,
    lease_secs: i64,
) -> Result<Option<Uuid>, DomainError> {
    let token = Uuid::new_v4();
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE uploads SET lock_token = $3,
                     locked_until = now() + make_interval(secs => $4), updated_at = now()
                 WHERE id = $1 AND owner_id = $2 AND direct AND state = '{}'
                   AND expires_at > now()
                   AND (lock_token IS NULL OR locked_until < now())",
                UploadState::Active.as_str()
            ),
            [
                upload_id.into(),
                owner.into(),
                token.into(),
                (lease_secs as f64).into(),
            ],
        ))
        .await?;
    Ok((done.rows_affected() == 1).then_some(token))
}

/// Gives a claim back (the completion was refused): the client may fix the parts and try again.
pub async fn release<C: ConnectionTrait>(
    db: &C,
    upload_id: Uuid,
    token: Uuid,
) -> Result<(), DomainError> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE uploads SET lock_token = NULL, locked_until = NULL WHERE id = $1 AND lock_token = $2",
        [upload_id.into(), token.into()],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn plans_cut_the_file_in_parts_s3_accepts() {
        let p = PartPlan::new(20 * MIB + 1, 8 * MIB).unwrap();
        assert_eq!((p.part_size, p.count), (8 * MIB, 3));
        assert_eq!(p.size_of(3), 4 * MIB + 1);
        // Below S3's minimum part size, the minimum.
        assert_eq!(PartPlan::new(MIB, MIB).unwrap().part_size, MIN_PART);
        // A file needing more than 10,000 parts gets larger ones.
        let huge = PartPlan::new(200 * 1024 * MIB, 8 * MIB).unwrap();
        assert!(i64::from(huge.count) <= MAX_PARTS);
        assert_eq!(huge.part_size % MIB, 0);
        assert!(huge.part_size * i64::from(huge.count) >= huge.length);
        assert!(PartPlan::new(0, 8 * MIB).is_err());
        assert!(PartPlan::new(-5, 8 * MIB).is_err());
    }

    #[test]
    fn only_the_exact_plan_completes() {
        let p = PartPlan::new(12 * MIB, 5 * MIB).unwrap();
        let m = 5 * MIB as u64;
        assert!(p.check(&[(1, m), (2, m), (3, 2 * MIB as u64)]).is_ok());
        let code = |r: Result<(), DomainError>| match r {
            Err(DomainError::Refused(p)) => (p.code, p.detail.unwrap_or_default()),
            other => panic!("{other:?}"),
        };
        let (c, d) = code(p.check(&[(1, m), (3, 2 * MIB as u64)]));
        assert_eq!(
            (c, d.as_str()),
            (Code::UploadIncomplete, "missing parts: 2")
        );
        let (c, d) = code(p.check(&[(1, m), (2, m + 1), (3, 2 * MIB as u64)]));
        assert_eq!(c, Code::PartMismatch);
        assert!(d.contains("part 2"), "{d}");
        let (c, _) = code(p.check(&[(1, m), (2, m), (3, 2 * MIB as u64), (4, 1)]));
        assert_eq!(c, Code::PartMismatch);
        let (c, _) = code(p.check(&[]));
        assert_eq!(c, Code::UploadIncomplete);
        // Part 2 sent twice, too short first: the copy of the right size is the one.
        let listed = [(1, m), (2, m - 1), (2, m), (3, 2 * MIB as u64)];
        assert_eq!(p.pick(&listed), [0, 2, 3]);
        // Sent right, then wrong: still the right one; both wrong: the newest.
        assert_eq!(p.pick(&[(2, m), (2, 1)]), [0]);
        assert_eq!(p.pick(&[(2, 1), (2, 2)]), [1]);
    }
}
