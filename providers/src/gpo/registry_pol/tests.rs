//! Unit and property tests of the Registry.pol codec.

use proptest::prelude::*;

use super::*;

const HEADER: [u8; 8] = [0x50, 0x52, 0x65, 0x67, 1, 0, 0, 0];

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn header_only_is_an_empty_file() {
    let pol = read(&HEADER).unwrap();
    assert!(pol.records.is_empty());
    assert_eq!(write(&pol), HEADER);
}

#[test]
fn bad_headers_are_errors_at_offset_zero_or_four() {
    assert_eq!(read(b"").unwrap_err().offset, 0);
    assert_eq!(read(b"PReg").unwrap_err().offset, 4);
    assert_eq!(read(b"XReg\x01\0\0\0").unwrap_err().offset, 0);
    let e = read(b"PReg\x02\0\0\0").unwrap_err();
    assert_eq!(e.offset, 4);
    assert!(e.to_string().contains("version 2"), "{e}");
}

#[test]
fn a_dword_record_reads_writes_and_decodes() {
    let mut pol = RegistryPol::default();
    pol.records.push(Record::set(
        r"Software\Policies\Microsoft\ccmsetup",
        "NoDefAutoAssign",
        &RegValue::DWord(1),
    ));
    let bytes = write(&pol);
    let mut want = HEADER.to_vec();
    want.extend(utf16(
        "[Software\\Policies\\Microsoft\\ccmsetup\0;NoDefAutoAssign\0;",
    ));
    want.extend([4, 0, 0, 0]);
    want.extend(utf16(";"));
    want.extend([4, 0, 0, 0]);
    want.extend(utf16(";"));
    want.extend([1, 0, 0, 0]);
    want.extend(utf16("]"));
    assert_eq!(bytes, want);
    let back = read(&bytes).unwrap();
    assert_eq!(back, pol);
    assert_eq!(back.records[0].value(), Some(RegValue::DWord(1)));
}

#[test]
fn truncated_records_keep_their_shape() {
    let mut bytes = HEADER.to_vec();
    bytes.extend(utf16("[Software\\A\0]"));
    bytes.extend(utf16("[Software\\B\0;Name\0]"));
    bytes.extend(utf16("[Software\\C\0;Name\0;"));
    bytes.extend([1, 0, 0, 0]);
    bytes.extend(utf16("]"));
    bytes.extend(utf16("[Software\\D\0;Name\0;"));
    bytes.extend([1, 0, 0, 0]);
    bytes.extend(utf16(";"));
    bytes.extend([9, 0, 0, 0]);
    bytes.extend(utf16("]"));
    let pol = read(&bytes).unwrap();
    assert_eq!(pol.records.len(), 4);
    assert_eq!(pol.records[0].value_name, None);
    assert_eq!(pol.records[0].action(), Action::CreateKey);
    assert_eq!(pol.records[1].value_type, None);
    assert_eq!(pol.records[2].size, None);
    assert_eq!(pol.records[3].size, Some(9));
    assert_eq!(pol.records[3].data, None);
    assert_eq!(write(&pol), bytes);
}

#[test]
fn errors_carry_the_offset_of_the_problem() {
    let mut bytes = HEADER.to_vec();
    bytes.extend(utf16("[Key\0;Name\0;"));
    bytes.extend([1, 0, 0, 0]);
    bytes.extend(utf16(";"));
    bytes.extend([200, 0, 0, 0]);
    bytes.extend(utf16(";ab"));
    let e = read(&bytes).unwrap_err();
    assert_eq!(e.offset, bytes.len() - 4, "{e}");
    assert!(e.message.contains("200 bytes"), "{e}");

    let mut bytes = HEADER.to_vec();
    bytes.extend(utf16("[Key"));
    let e = read(&bytes).unwrap_err();
    assert_eq!(e.offset, 10);
    assert!(e.message.contains("NUL"), "{e}");

    let mut bytes = HEADER.to_vec();
    bytes.extend(utf16("x"));
    assert_eq!(read(&bytes).unwrap_err().offset, 8);
}

#[test]
fn special_value_names() {
    let rec = |name: &str| Record {
        key: "K".into(),
        value_name: Some(name.into()),
        ..Record::default()
    };
    assert_eq!(
        rec("**del.AUOptions").action(),
        Action::DeleteValue("AUOptions".into())
    );
    assert_eq!(rec("**Del.X").target_name(), Some("X"));
    assert_eq!(rec("**delvals.").action(), Action::DeleteAllValues);
    assert_eq!(rec("**DeleteValues").action(), Action::DeleteValues);
    assert_eq!(rec("**DeleteKeys").action(), Action::DeleteKeys);
    assert_eq!(rec("**SecureKey").action(), Action::SecureKey);
    assert_eq!(rec("").action(), Action::CreateKey);
    assert_eq!(rec("WUServer").action(), Action::Set("WUServer".into()));
    let del = Record::delete_value("K", "AUOptions");
    assert_eq!(del.data.as_deref(), Some(&[0x20, 0, 0, 0][..]));
    assert_eq!(del.value_type, Some(1));
}

#[test]
fn typed_values_decode() {
    use model::RegType as T;
    assert_eq!(
        RegValue::decode(T::MultiSz, &[0, 0]),
        RegValue::MultiString(vec![])
    );
    assert_eq!(
        RegValue::decode(T::MultiSz, &utf16("a\0bc\0\0")),
        RegValue::MultiString(vec!["a".into(), "bc".into()])
    );
    assert_eq!(
        RegValue::decode(T::QWord, &[1, 0, 0, 0, 0, 0, 0, 1]),
        RegValue::QWord(1 | 1 << 56)
    );
    assert_eq!(
        RegValue::decode(T::DWord, &[1, 0]),
        RegValue::Raw(T::DWord, vec![1, 0])
    );
    assert_eq!(
        RegValue::decode(T::ExpandSz, &utf16("%X%\0")),
        RegValue::ExpandString("%X%".into())
    );
    assert_eq!(
        RegValue::decode(T::Sz, &[0x41]),
        RegValue::Raw(T::Sz, vec![0x41])
    );
    for v in [
        RegValue::String("x".into()),
        RegValue::ExpandString("%windir%".into()),
        RegValue::DWord(7),
        RegValue::QWord(u64::MAX),
        RegValue::MultiString(vec!["a".into(), "b".into()]),
        RegValue::Binary(vec![1, 2, 3]),
    ] {
        assert_eq!(RegValue::decode(v.reg_type(), &v.encode()), v);
    }
}

#[test]
fn upsert_replaces_sets_and_deletes_of_the_same_name() {
    let mut pol = RegistryPol::default();
    pol.upsert(Record::set("K", "A", &RegValue::DWord(1)));
    pol.upsert(Record::set("K", "B", &RegValue::DWord(2)));
    pol.upsert(Record::delete_value("k", "a"));
    assert_eq!(pol.records.len(), 2);
    assert_eq!(pol.records[0].value_name.as_deref(), Some("**del.a"));
    assert_eq!(
        pol.find("K", "A").map(Record::action),
        Some(Action::DeleteValue("a".into()))
    );
    assert_eq!(pol.remove("K", Some("b")), 1);
    assert_eq!(pol.remove("K", None), 1);
    assert!(pol.records.is_empty());
}

fn arb_record() -> impl Strategy<Value = Record> {
    (
        "[^\u{0}]{0,12}",
        proptest::option::of("[^\u{0}]{0,12}"),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..24)),
    )
        .prop_map(|(key, name, t, size, data)| {
            let mut r = Record {
                key,
                value_name: name,
                value_type: t,
                size,
                data,
            };
            // Keep the record in the shape the reader produces.
            if r.value_name.is_none() {
                r.value_type = None;
            }
            if r.value_type.is_none() {
                r.size = None;
            }
            if r.size.is_none() {
                r.data = None;
            }
            if let Some(d) = &r.data {
                r.size = u32::try_from(d.len()).ok();
            }
            r
        })
}

proptest! {
    #[test]
    fn reading_arbitrary_bytes_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(pol) = read(&bytes) {
            prop_assert_eq!(write(&pol), bytes);
        }
    }

    #[test]
    fn reading_arbitrary_bodies_never_panics_and_round_trips(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = HEADER.to_vec();
        bytes.extend(body);
        match read(&bytes) {
            Ok(pol) => prop_assert_eq!(write(&pol), bytes),
            Err(e) => prop_assert!(e.offset <= bytes.len()),
        }
    }

    #[test]
    fn written_records_read_back(records in proptest::collection::vec(arb_record(), 0..6)) {
        let pol = RegistryPol { records };
        let bytes = write(&pol);
        prop_assert_eq!(read(&bytes).unwrap(), pol);
    }

    #[test]
    fn decoding_any_data_never_panics(t in any::<u32>(), data in proptest::collection::vec(any::<u8>(), 0..32)) {
        let v = RegValue::decode(model::RegType::from_u32(t), &data);
        let _ = v.to_string();
    }
}
