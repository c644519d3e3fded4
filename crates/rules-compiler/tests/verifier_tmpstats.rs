// temporary: stats, deleted afterwards
#[path = "verifier_engine.rs"]
#[allow(dead_code)]
mod e;
use std::collections::HashSet;
use rules_compiler::verify::engine::*;
use rules_compiler::verify::Direction;
#[test]
#[ignore]
fn stats() {
    let tags = e::tags_pub();
    let rules = e::large_nsg_pub(1);
    let domain = e::ise_domain_pub();
    let t = std::time::Instant::now();
    let ev = evaluate(&rules, &tags, Direction::Inbound, &domain);
    println!("{:?}", t.elapsed());
    let r = ev.regions();
    let p: HashSet<_> = r.iter().map(|x| x.flows.protocols()).collect();
    let s: HashSet<_> = r.iter().map(|x| x.flows.src().clone()).collect();
    let d: HashSet<_> = r.iter().map(|x| x.flows.dst().clone()).collect();
    let sp: HashSet<_> = r.iter().map(|x| x.flows.src_ports().clone()).collect();
    let dp: HashSet<_> = r.iter().map(|x| x.flows.dst_ports().clone()).collect();
    let fd: HashSet<_> = r.iter().map(|x| (x.decider, x.next)).collect();
    let f: HashSet<_> = r.iter().map(|x| x.decider).collect();
    println!("regions {} protos {} src {} dst {} sp {} dp {} pairs {} firsts {}", r.len(), p.len(), s.len(), d.len(), sp.len(), dp.len(), fd.len(), f.len());
    let dsum: usize = d.iter().map(|x| x.intervals().len()).sum();
    let dpsum: usize = dp.iter().map(|x| x.intervals().len()).sum();
    println!("dst ivs {dsum} dport ivs {dpsum}");
    let inb: Vec<_> = rules.iter().filter(|r| r.direction == Direction::Inbound).collect();
    println!("inbound {}", inb.len());
    let t = std::time::Instant::now();
    let a = ev.allowed();
    println!("allowed boxes {} {:?}", a.boxes().len(), t.elapsed());
}
