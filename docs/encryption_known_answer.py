# Independent check of FORMAT.md §13 "Known answer" (HKDF-SHA256, HChaCha20 and
# ChaCha20-Poly1305 from the spec alone, with the Python package cryptography):
#   python3 docs/encryption_known_answer.py   prints the sealed blob FORMAT.md gives.
import struct
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
def rotl(v,c): return ((v<<c)&0xffffffff)|(v>>(32-c))
def qr(s,a,b,c,d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],7)
def hchacha(key,n16):
    s=[0x61707865,0x3320646e,0x79622d32,0x6b206574]+list(struct.unpack('<8I',key))+list(struct.unpack('<4I',n16))
    for _ in range(10):
        qr(s,0,4,8,12);qr(s,1,5,9,13);qr(s,2,6,10,14);qr(s,3,7,11,15)
        qr(s,0,5,10,15);qr(s,1,6,11,12);qr(s,2,7,8,13);qr(s,3,4,9,14)
    return struct.pack('<8I',*(s[0:4]+s[12:16]))
data_key=bytes(range(32))
subkey=HKDF(hashes.SHA256(),32,None,b"bru archive v3 chunk key").derive(data_key)
nonce=b'\x42'*24
aad=b"bru chunk\x00"+struct.pack('<I',3)+bytes.fromhex("00112233445566778899aabbccddeeff")+struct.pack('<qQQQ',1,2,3,17)
k2=hchacha(subkey,nonce[:16])
ct=ChaCha20Poly1305(k2).encrypt(b'\0'*4+nonce[16:],b"bru chunk body",aad)
print((nonce+ct).hex())
