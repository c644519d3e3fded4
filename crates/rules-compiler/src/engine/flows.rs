//! Sets of packets: products of per-dimension sets (`FlowBox`) and unions of disjoint products
//! (`FlowSet`), with the set algebra the verifier needs and a readable rendering for reports.
//!
//! Protocols without ports (ICMP, ESP, AH, other) have no port dimension. They are kept in the same
//! five-dimensional boxes by one invariant: a box that holds a portless protocol has full port sets.
//! A box's port constraint that is not `*` therefore never holds portless packets, exactly like a
//! rule whose ports are not `*` never matches them.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use ipnet::Ipv4Net;
use serde::Serialize;

use super::fxhash::FxMap;
use super::intervals::IntervalSet;
use crate::azure::nsg::{AddressMatch, PortRange, Protocol, SecurityRule};
use crate::engine::{Packet, PacketProtocol, TagResolver};

/// A set of packet protocols (bit `p as u8` for each `PacketProtocol` p).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtoSet(u8);

impl ProtoSet {
    pub const EMPTY: ProtoSet = ProtoSet(0);
    pub const ALL: ProtoSet = ProtoSet(0b11_1111);
    /// TCP and UDP, the protocols that carry ports.
    pub const WITH_PORTS: ProtoSet = ProtoSet(0b11);

    pub fn single(p: PacketProtocol) -> Self {
        ProtoSet(1 << p as u8)
    }

    /// The packet protocols a rule's protocol field matches (`*` matches all, including `Other`).
    pub fn matched_by(p: Protocol) -> Self {
        match p {
            Protocol::Tcp => Self::single(PacketProtocol::Tcp),
            Protocol::Udp => Self::single(PacketProtocol::Udp),
            Protocol::Icmp => Self::single(PacketProtocol::Icmp),
            Protocol::Esp => Self::single(PacketProtocol::Esp),
            Protocol::Ah => Self::single(PacketProtocol::Ah),
            Protocol::Any => Self::ALL,
        }
    }

    pub fn contains(self, p: PacketProtocol) -> bool {
        self.0 & (1 << p as u8) != 0
    }
    pub fn union(self, o: Self) -> Self {
        ProtoSet(self.0 | o.0)
    }
    pub fn intersection(self, o: Self) -> Self {
        ProtoSet(self.0 & o.0)
    }
    pub fn difference(self, o: Self) -> Self {
        ProtoSet(self.0 & !o.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    pub fn iter(self) -> impl Iterator<Item = PacketProtocol> {
        PacketProtocol::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

/// A product set: protocols x source addresses x source ports x destination addresses x
/// destination ports (see the module doc for portless protocols).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowBox {
    protocols: ProtoSet,
    src: IntervalSet<u32>,
    src_ports: IntervalSet<u16>,
    dst: IntervalSet<u32>,
    dst_ports: IntervalSet<u16>,
}

/// A rule names a service tag the resolver does not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedTag {
    pub tag: String,
}

/// The addresses an address field matches.
pub fn address_set<R: TagResolver + ?Sized>(m: &AddressMatch, resolver: &R) -> Result<IntervalSet<u32>, UnresolvedTag> {
    match m {
        AddressMatch::Any => Ok(IntervalSet::full()),
        AddressMatch::Prefixes(nets) => Ok(IntervalSet::from_prefixes(nets.iter().copied())),
        AddressMatch::Prefixes6(_) => Ok(IntervalSet::empty()),
        AddressMatch::Tag(tag) => resolver.resolve_set(tag).ok_or_else(|| UnresolvedTag { tag: tag.clone() }),
    }
}

impl FlowBox {
    /// Drops the portless protocols when either port set is not full (see the module doc).
    pub fn new(
        protocols: ProtoSet,
        src: IntervalSet<u32>,
        src_ports: IntervalSet<u16>,
        dst: IntervalSet<u32>,
        dst_ports: IntervalSet<u16>,
    ) -> Self {
        let protocols = if src_ports.is_full() && dst_ports.is_full() {
            protocols
        } else {
            protocols.intersection(ProtoSet::WITH_PORTS)
        };
        FlowBox {
            protocols,
            src,
            src_ports,
            dst,
            dst_ports,
        }
    }

    /// Caller guarantees the portless invariant.
    pub(crate) fn from_raw(
        protocols: ProtoSet,
        src: IntervalSet<u32>,
        src_ports: IntervalSet<u16>,
        dst: IntervalSet<u32>,
        dst_ports: IntervalSet<u16>,
    ) -> Self {
        let b = FlowBox {
            protocols,
            src,
            src_ports,
            dst,
            dst_ports,
        };
        debug_assert!(b.invariant_holds());
        b
    }

    fn invariant_holds(&self) -> bool {
        self.protocols.difference(ProtoSet::WITH_PORTS).is_empty() || (self.src_ports.is_full() && self.dst_ports.is_full())
    }

    /// Every packet.
    pub fn everything() -> Self {
        FlowBox {
            protocols: ProtoSet::ALL,
            src: IntervalSet::full(),
            src_ports: IntervalSet::full(),
            dst: IntervalSet::full(),
            dst_ports: IntervalSet::full(),
        }
    }

    /// The packets a rule matches (direction and priority aside).
    pub fn from_rule<R: TagResolver + ?Sized>(rule: &SecurityRule, resolver: &R) -> Result<Self, UnresolvedTag> {
        Ok(FlowBox::new(
            ProtoSet::matched_by(rule.protocol),
            address_set(&rule.source, resolver)?,
            IntervalSet::from_port_ranges(&rule.source_ports),
            address_set(&rule.destination, resolver)?,
            IntervalSet::from_port_ranges(&rule.destination_ports),
        ))
    }

    pub fn protocols(&self) -> ProtoSet {
        self.protocols
    }
    pub fn src(&self) -> &IntervalSet<u32> {
        &self.src
    }
    pub fn src_ports(&self) -> &IntervalSet<u16> {
        &self.src_ports
    }
    pub fn dst(&self) -> &IntervalSet<u32> {
        &self.dst
    }
    pub fn dst_ports(&self) -> &IntervalSet<u16> {
        &self.dst_ports
    }

    pub fn is_empty(&self) -> bool {
        self.protocols.is_empty() || self.src.is_empty() || self.dst.is_empty() || self.src_ports.is_empty() || self.dst_ports.is_empty()
    }

    pub fn contains(&self, p: &Packet) -> bool {
        self.protocols.contains(p.protocol)
            && self.src.contains(u32::from(p.src))
            && self.dst.contains(u32::from(p.dst))
            && (!p.protocol.has_ports() || (self.src_ports.contains(p.src_port) && self.dst_ports.contains(p.dst_port)))
    }

    /// Number of packets, a portless packet counting once per (source, destination).
    pub fn packet_count(&self) -> u128 {
        let ported = self.protocols.intersection(ProtoSet::WITH_PORTS).len() as u128;
        let portless = self.protocols.difference(ProtoSet::WITH_PORTS).len() as u128;
        let ports = u128::from(self.src_ports.count()) * u128::from(self.dst_ports.count());
        (ported * ports + portless) * u128::from(self.src.count()) * u128::from(self.dst.count())
    }

    pub fn intersection(&self, o: &Self) -> Self {
        // Portless protocols survive only if both sides have them, hence full ports on both.
        FlowBox {
            protocols: self.protocols.intersection(o.protocols),
            src: self.src.intersection(&o.src),
            src_ports: self.src_ports.intersection(&o.src_ports),
            dst: self.dst.intersection(&o.dst),
            dst_ports: self.dst_ports.intersection(&o.dst_ports),
        }
    }

    pub fn intersects(&self, o: &Self) -> bool {
        // Ports first: their lists are short, the addresses can hold a service tag's thousands.
        !self.protocols.intersection(o.protocols).is_empty()
            && self.dst_ports.intersects(&o.dst_ports)
            && self.src_ports.intersects(&o.src_ports)
            && self.dst.intersects(&o.dst)
            && self.src.intersects(&o.src)
    }

    /// Whether every packet of `self` is in `o`: each dimension within `o`'s. Exact for a
    /// non-empty box, since a box holding a portless protocol has full ports (`FlowBox::new`).
    /// The addresses, which can hold a tag's thousands of intervals, are checked last.
    pub fn is_within(&self, o: &Self) -> bool {
        self.protocols.difference(o.protocols).is_empty()
            && self.dst_ports.is_subset(&o.dst_ports)
            && self.src_ports.is_subset(&o.src_ports)
            && self.dst.is_subset(&o.dst)
            && self.src.is_subset(&o.src)
    }

    /// `self \ o` as disjoint non-empty boxes: peel one dimension at a time, keeping the earlier
    /// dimensions inside `o`.
    pub fn difference(&self, o: &Self) -> Vec<FlowBox> {
        if !self.intersects(o) {
            return vec![self.clone()];
        }
        let mut out = Vec::new();
        let mut rest = self.clone();
        let p = rest.protocols.difference(o.protocols);
        if !p.is_empty() {
            out.push(FlowBox {
                protocols: p,
                ..rest.clone()
            });
        }
        rest.protocols = rest.protocols.intersection(o.protocols);
        let s = rest.src.difference(&o.src);
        if !s.is_empty() {
            out.push(FlowBox { src: s, ..rest.clone() });
        }
        rest.src = rest.src.intersection(&o.src);
        let d = rest.dst.difference(&o.dst);
        if !d.is_empty() {
            out.push(FlowBox { dst: d, ..rest.clone() });
        }
        rest.dst = rest.dst.intersection(&o.dst);
        let sp = rest.src_ports.difference(&o.src_ports);
        if !sp.is_empty() {
            out.push(FlowBox {
                src_ports: sp,
                ..rest.clone()
            });
        }
        rest.src_ports = rest.src_ports.intersection(&o.src_ports);
        let dp = rest.dst_ports.difference(&o.dst_ports);
        if !dp.is_empty() {
            out.push(FlowBox { dst_ports: dp, ..rest });
        }
        // A portless protocol in `rest` means full ports on both sides: no port pieces above.
        out.retain(|b| !b.is_empty());
        out
    }
}

/// Pairwise work (`|self| * |o|` box checks) above which the other set is indexed.
const INDEX_FROM: usize = 64;

/// The cell of a box: 0 when unknown, otherwise the region of one partition (see
/// [`FlowSet::from_cells`]) that holds the box: the partition in the high 32 bits, the region in
/// the low. Boxes in different cells of one partition are disjoint; boxes of two partitions (two
/// evaluations' sets combined) may meet whatever their cells.
pub(crate) type Cell = u64;

/// Fresh partition numbers, so that cells of different partitions never compare equal.
static NEXT_PARTITION: AtomicU64 = AtomicU64::new(1);

/// The first of `n` cells of a new partition; its region `k` is cell `first + k`.
pub(crate) fn new_cells(n: usize) -> Cell {
    assert!(u32::try_from(n).is_ok(), "fewer than 2^32 regions");
    NEXT_PARTITION.fetch_add(1, Ordering::Relaxed) << 32
}

/// The partition a known cell belongs to.
fn partition_of(cell: Cell) -> u64 {
    cell >> 32
}

/// A set of packets as a union of pairwise disjoint, non-empty boxes.
#[derive(Clone, Debug, Default)]
pub struct FlowSet {
    /// Shared: a set is cloned whole (an evaluation's allowed packets, once per requirement).
    boxes: Arc<[FlowBox]>,
    /// The cell of each box. Sets cut from one evaluation (a rule's regions, the allowed ones
    /// less the required packets) keep their boxes inside the evaluation's regions, so a box
    /// need only be checked against the boxes of its own region: linear instead of pairwise.
    cells: Arc<[Cell]>,
    /// What the set leaves of one box, when known (an evaluation's allowed packets are the rest
    /// of its domain denied). Taking the set away from a box is then an intersection with the
    /// rest, instead of cutting the box by each of the set's boxes in turn (pieces that grow
    /// with every cut: quadratic on the many regions of a large NSG).
    rest: Option<Arc<Rest>>,
    /// Built on first use as the larger side of a pairwise operation, shared by clones.
    index: Arc<OnceLock<Index>>,
}

#[derive(Debug)]
struct Rest {
    within: FlowBox,
    boxes: FlowSet,
}

/// Which boxes of a set may meet a given box.
#[derive(Debug)]
struct Index {
    spans: Vec<Span>,
    by_cell: FxMap<Cell, Vec<u32>>,
    /// Boxes of a known cell, by partition (almost always one).
    by_partition: Vec<(u64, Vec<u32>)>,
    /// Boxes of no known cell.
    loose: Vec<u32>,
}

/// A box's protocols and the span (smallest to largest value) of each of its four other sets:
/// a few words to compare before the exact test, when one box is checked against many.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    protocols: ProtoSet,
    lo: [u32; 4],
    hi: [u32; 4],
}

impl Span {
    pub(crate) fn of(b: &FlowBox) -> Self {
        let mut s = Span {
            protocols: b.protocols,
            lo: [u32::MAX; 4],
            hi: [0; 4],
        };
        let spans = [
            b.src.span(),
            b.src_ports.span().map(|(l, h)| (u32::from(l), u32::from(h))),
            b.dst.span(),
            b.dst_ports.span().map(|(l, h)| (u32::from(l), u32::from(h))),
        ];
        for (d, span) in spans.into_iter().enumerate() {
            // An empty set keeps the impossible span MAX..=0, which meets nothing.
            if let Some((l, h)) = span {
                (s.lo[d], s.hi[d]) = (l, h);
            }
        }
        s
    }

    /// False only if the boxes cannot meet.
    pub(crate) fn meets(&self, o: &Span) -> bool {
        !self.protocols.intersection(o.protocols).is_empty() && (0..4).all(|d| self.lo[d] <= o.hi[d] && o.lo[d] <= self.hi[d])
    }
}

/// Boxes with their cells, as operations build them.
#[derive(Default)]
struct Builder {
    boxes: Vec<FlowBox>,
    cells: Vec<Cell>,
}

impl Builder {
    fn push(&mut self, b: FlowBox, cell: Cell) {
        self.boxes.push(b);
        self.cells.push(cell);
    }
    fn finish(self) -> FlowSet {
        FlowSet::from_cells(self.boxes, self.cells)
    }
}

impl FlowSet {
    fn of(boxes: Vec<FlowBox>) -> Self {
        let cells = vec![0; boxes.len()];
        Self::from_cells(boxes, cells)
    }

    /// Boxes each inside the region of a partition that its cell names (0: none known). The
    /// caller guarantees the boxes are pairwise disjoint and non-empty.
    pub(crate) fn from_cells(boxes: Vec<FlowBox>, cells: Vec<Cell>) -> Self {
        debug_assert_eq!(boxes.len(), cells.len());
        FlowSet {
            boxes: boxes.into(),
            cells: cells.into(),
            rest: None,
            index: Arc::default(),
        }
    }

    /// The same set, knowing that `rest` is what it leaves of `within`: the caller guarantees
    /// that the two are disjoint and together exactly `within`.
    pub(crate) fn with_rest(self, within: FlowBox, rest: FlowSet) -> Self {
        FlowSet {
            rest: Some(Arc::new(Rest { within, boxes: rest })),
            ..self
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut by_cell: FxMap<Cell, Vec<u32>> = FxMap::default();
            let mut by_partition: Vec<(u64, Vec<u32>)> = Vec::new();
            let mut loose = Vec::new();
            for (k, &c) in self.cells.iter().enumerate() {
                let k = u32::try_from(k).expect("fewer than 2^32 boxes");
                if c == 0 {
                    loose.push(k);
                    continue;
                }
                by_cell.entry(c).or_default().push(k);
                match by_partition.iter_mut().find(|(p, _)| *p == partition_of(c)) {
                    Some((_, boxes)) => boxes.push(k),
                    None => by_partition.push((partition_of(c), vec![k])),
                }
            }
            Index {
                spans: self.boxes.iter().map(Span::of).collect(),
                by_cell,
                by_partition,
                loose,
            }
        })
    }

    /// The boxes of `self` (with their cells) that may meet `a` of cell `cell`, when `self` is
    /// checked against `others` boxes in all: every box for small work, otherwise those of `a`'s
    /// cell, of none and of other partitions whose spans meet `a`'s.
    fn candidates(&self, a: &FlowBox, cell: Cell, others: usize) -> Vec<(&FlowBox, Cell)> {
        let pair = |k: usize| (&self.boxes[k], self.cells[k]);
        if self.boxes.len().saturating_mul(others) < INDEX_FROM {
            return (0..self.boxes.len()).map(pair).collect();
        }
        let ix = self.index();
        let span = Span::of(a);
        let near = |k: &&u32| ix.spans[**k as usize].meets(&span);
        if cell == 0 {
            return (0..self.boxes.len()).filter(|k| ix.spans[*k].meets(&span)).map(pair).collect();
        }
        let same = ix.by_cell.get(&cell).map_or(&[][..], Vec::as_slice);
        let foreign = ix
            .by_partition
            .iter()
            .filter(|(p, _)| *p != partition_of(cell))
            .flat_map(|(_, boxes)| boxes);
        same.iter()
            .chain(&ix.loose)
            .chain(foreign)
            .filter(near)
            .map(|&k| pair(k as usize))
            .collect()
    }

    pub fn empty() -> Self {
        Self::of(Vec::new())
    }

    /// The same boxes with their cells forgotten: for a set cut from one evaluation and asked of
    /// another, whose fast paths take only cell-less sets.
    pub fn without_cells(&self) -> Self {
        Self::of(self.boxes.to_vec())
    }

    pub fn everything() -> Self {
        Self::from_box(FlowBox::everything())
    }

    pub fn from_box(b: FlowBox) -> Self {
        Self::of(if b.is_empty() { Vec::new() } else { vec![b] })
    }

    /// Explicit components; portless protocols are kept only if both port sets are full.
    pub fn from_parts(
        protocols: ProtoSet,
        src: IntervalSet<u32>,
        src_ports: IntervalSet<u16>,
        dst: IntervalSet<u32>,
        dst_ports: IntervalSet<u16>,
    ) -> Self {
        Self::from_box(FlowBox::new(protocols, src, src_ports, dst, dst_ports))
    }

    /// The packets a rule matches (direction and priority aside).
    pub fn from_rule<R: TagResolver + ?Sized>(rule: &SecurityRule, resolver: &R) -> Result<Self, UnresolvedTag> {
        FlowBox::from_rule(rule, resolver).map(Self::from_box)
    }

    pub fn boxes(&self) -> &[FlowBox] {
        &self.boxes
    }

    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    pub fn contains(&self, p: &Packet) -> bool {
        self.boxes.iter().any(|b| b.contains(p))
    }

    pub fn packet_count(&self) -> u128 {
        self.boxes.iter().map(FlowBox::packet_count).sum()
    }

    /// The set without its empty boxes (an intersection with the domain can empty one).
    fn without_empty(self) -> Self {
        if self.boxes.iter().all(|b| !b.is_empty()) {
            return self;
        }
        let (boxes, cells) = self
            .with_cells()
            .filter(|(b, _)| !b.is_empty())
            .map(|(b, c)| (b.clone(), c))
            .unzip();
        Self::from_cells(boxes, cells)
    }

    pub(crate) fn with_cells(&self) -> impl Iterator<Item = (&FlowBox, Cell)> {
        self.boxes.iter().zip(self.cells.iter().copied())
    }

    pub fn intersection(&self, o: &Self) -> Self {
        let mut out = Builder::default();
        for (a, ca) in self.with_cells() {
            for (b, cb) in o.candidates(a, ca, self.boxes.len()) {
                if a.intersects(b) {
                    // The piece lies in both boxes, so in either's cell.
                    out.push(a.intersection(b), ca.max(cb));
                }
            }
        }
        out.finish()
    }

    pub fn difference(&self, o: &Self) -> Self {
        let mut out = Builder::default();
        if let Some(rest) = &o.rest {
            // a \ o = (a \ within) + (a & within & rest).
            for (a, ca) in self.with_cells() {
                for piece in a.difference(&rest.within) {
                    out.push(piece, ca);
                }
                let inner = FlowSet::from_cells(vec![a.intersection(&rest.within)], vec![ca]);
                for (piece, c) in inner.without_empty().intersection(&rest.boxes).with_cells() {
                    out.push(piece.clone(), c);
                }
            }
            return out.finish();
        }
        let mut next = Vec::new();
        for (a, ca) in self.with_cells() {
            let mut pieces = vec![a.clone()];
            // Only the boxes of `o` meeting `a` can cut its pieces.
            for (b, _) in o.candidates(a, ca, self.boxes.len()) {
                if pieces.is_empty() {
                    break;
                }
                if !a.intersects(b) {
                    continue;
                }
                next.clear();
                for p in &pieces {
                    if p.intersects(b) {
                        next.extend(p.difference(b));
                    } else {
                        next.push(p.clone());
                    }
                }
                std::mem::swap(&mut pieces, &mut next);
            }
            // Pieces of `a` lie in its cell.
            for piece in pieces {
                out.push(piece, ca);
            }
        }
        out.finish()
    }

    /// The set without its boxes that lie within one box of `sets`: the same packets less some
    /// of theirs, the other boxes (and their cells) as they were.
    pub fn without_boxes_within(&self, sets: &[FlowSet]) -> Self {
        let mut out = Builder::default();
        for (a, ca) in self.with_cells() {
            if !sets.iter().any(|s| s.boxes.iter().any(|b| a.is_within(b))) {
                out.push(a.clone(), ca);
            }
        }
        out.finish()
    }

    pub fn union(&self, o: &Self) -> Self {
        let mut out = Builder {
            boxes: self.boxes.to_vec(),
            cells: self.cells.to_vec(),
        };
        for (b, c) in o.difference(self).with_cells() {
            out.push(b.clone(), c);
        }
        out.finish()
    }

    pub fn is_subset(&self, o: &Self) -> bool {
        self.difference(o).is_empty()
    }

    /// Same packets (the boxes may be cut differently).
    pub fn set_eq(&self, o: &Self) -> bool {
        self.is_subset(o) && o.is_subset(self)
    }

    /// Readable disjoint pieces, boxes merged where they differ in one dimension only, sorted.
    pub fn pieces(&self) -> Vec<FlowPiece> {
        let mut pieces: Vec<FlowPiece> = coalesce(self.boxes.to_vec())
            .into_iter()
            .map(|b| FlowPiece {
                protocols: b.protocols.iter().collect(),
                src: b.src.to_prefixes(),
                src_ports: b.src_ports.to_port_ranges(),
                dst: b.dst.to_prefixes(),
                dst_ports: b.dst_ports.to_port_ranges(),
            })
            .collect();
        pieces.sort();
        pieces
    }
}

/// Merges disjoint boxes equal in all dimensions but one, until nothing changes.
fn coalesce(mut boxes: Vec<FlowBox>) -> Vec<FlowBox> {
    loop {
        let before = boxes.len();
        for dim in 0..5 {
            // Fx, not SipHash: the keys are whole boxes (a tag's thousands of intervals), and the
            // order of the result comes from `order`, not from the map.
            let mut groups: FxMap<FlowBox, FlowBox> = FxMap::default();
            let mut order = Vec::new();
            for b in boxes {
                let mut key = b.clone();
                match dim {
                    0 => key.protocols = ProtoSet::EMPTY,
                    1 => key.src = IntervalSet::empty(),
                    2 => key.src_ports = IntervalSet::empty(),
                    3 => key.dst = IntervalSet::empty(),
                    _ => key.dst_ports = IntervalSet::empty(),
                }
                match groups.get_mut(&key) {
                    Some(m) => match dim {
                        0 => m.protocols = m.protocols.union(b.protocols),
                        1 => m.src = m.src.union(&b.src),
                        2 => m.src_ports = m.src_ports.union(&b.src_ports),
                        3 => m.dst = m.dst.union(&b.dst),
                        _ => m.dst_ports = m.dst_ports.union(&b.dst_ports),
                    },
                    None => {
                        order.push(key.clone());
                        groups.insert(key, b);
                    }
                }
            }
            boxes = order.into_iter().map(|k| groups.remove(&k).expect("group")).collect();
        }
        if boxes.len() == before {
            return boxes;
        }
    }
}

/// One readable piece of a flow set (for reports of uncovered or unexpected ranges). Its JSON form
/// is the `flows` entry of a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FlowPiece {
    pub protocols: Vec<PacketProtocol>,
    #[serde(rename = "sources")]
    pub src: Vec<Ipv4Net>,
    #[serde(rename = "sourcePorts")]
    pub src_ports: Vec<PortRange>,
    #[serde(rename = "destinations")]
    pub dst: Vec<Ipv4Net>,
    #[serde(rename = "ports")]
    pub dst_ports: Vec<PortRange>,
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

impl fmt::Display for FlowPiece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protos: Vec<String> = self.protocols.iter().map(|p| format!("{p:?}")).collect();
        let addrs = |a: &[Ipv4Net]| {
            if a.len() == 1 && a[0].prefix_len() == 0 {
                "*".to_string()
            } else {
                join(a)
            }
        };
        write!(
            f,
            "{} {}:{} -> {}:{}",
            protos.join(","),
            addrs(&self.src),
            ise_model::ports::format_list(&self.src_ports),
            addrs(&self.dst),
            ise_model::ports::format_list(&self.dst_ports)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` boxes (port k of 10.0.0.0/8 to anywhere), each in its own cell of a new partition.
    fn partitioned(n: u16) -> FlowSet {
        let first = new_cells(usize::from(n));
        let boxes = (0..n)
            .map(|k| {
                FlowBox::new(
                    ProtoSet::ALL,
                    IntervalSet::from_intervals([(0x0A00_0000, 0x0AFF_FFFF)]),
                    IntervalSet::full(),
                    IntervalSet::full(),
                    IntervalSet::point(k),
                )
            })
            .collect();
        FlowSet::from_cells(boxes, (0..n).map(|k| first + Cell::from(k)).collect())
    }

    /// Two evaluations' sets of the same packets, in cells of two partitions: combined past the
    /// size at which the larger side is indexed, they still meet (cells of one partition are
    /// disjoint; of two, they tell nothing).
    #[test]
    fn sets_of_two_partitions_meet_whatever_their_cells() {
        for n in [2, 8, 40] {
            let (a, b) = (partitioned(n), partitioned(n));
            assert!(a.intersection(&b).set_eq(&a), "{n} boxes");
            assert!(a.difference(&b).is_empty(), "{n} boxes");
            assert!(a.union(&b).set_eq(&b), "{n} boxes");
            assert!(a.is_subset(&b) && b.is_subset(&a), "{n} boxes");
            // Within one partition, other cells are disjoint and left out of the candidates.
            assert!(a.intersection(&a).set_eq(&a) && a.difference(&a).is_empty(), "{n} boxes");
        }
    }
}
