"""Names, and the ways partners get them wrong.

Real partner records disagree about names: a charity writes "Jaydon" for "Jayden", a school keeps
a mother's old surname, a receptionist swaps two letters. Identity resolution must cope, so the
generator reproduces those kinds of mess here, always from a seeded `random.Random`.
"""

from __future__ import annotations

import random

GIRLS = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia", "Grace",
    "Freya", "Willow", "Florence", "Emily", "Ella", "Poppy", "Evie", "Elsie", "Charlotte", "Evelyn",
    "Sienna", "Daisy", "Phoebe", "Sofia", "Alice", "Harper", "Matilda", "Ruby", "Emilia", "Maya", "Amber",
    "Layla", "Chloe", "Holly", "Jessica", "Megan", "Leah", "Katie", "Lauren", "Hannah", "Zara", "Aisha",
    "Maryam", "Niamh", "Kacey", "Demi"
)  # fmt: skip
BOYS = (
    "Muhammad", "Noah", "Oliver", "George", "Arthur", "Leo", "Harry", "Oscar", "Archie", "Henry",
    "Theodore", "Freddie", "Jack", "Charlie", "Theo", "Alfie", "Jacob", "Thomas", "Finley", "Arlo", "Lucas",
    "Tommy", "Isaac", "Mason", "Teddy", "Alexander", "Reggie", "Ronnie", "Louie", "Jayden", "Riley", "Kai",
    "Tyler", "Callum", "Kyle", "Connor", "Brandon", "Liam", "Ethan", "Aaron", "Dylan", "Harvey", "Bobby",
    "Ryan", "Jamie"
)  # fmt: skip
ADULT_WOMEN = (
    "Sarah", "Emma", "Laura", "Rebecca", "Gemma", "Kelly", "Stacey", "Natalie", "Amy", "Jade", "Danielle",
    "Kirsty", "Claire", "Hayley", "Samantha", "Charlotte", "Jennifer", "Lisa", "Michelle", "Nicola", "Zoe",
    "Leanne", "Kerry", "Vicky", "Louise", "Joanne", "Aisha", "Fatima"
)  # fmt: skip
ADULT_MEN = (
    "Daniel", "James", "Christopher", "Matthew", "David", "Michael", "Andrew", "Mark", "Paul", "Lee",
    "Craig", "Darren", "Wayne", "Scott", "Richard", "Steven", "Ben", "Adam", "Tom", "Ashley", "Ryan",
    "Dean", "Jason", "Carl", "Mohammed", "Imran", "Tomasz", "Piotr"
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke",
    "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill", "Ward", "Hughes", "Moore",
    "Clark", "King", "Harrison", "Lewis", "Baker", "Lee", "Allen", "Morris", "Khan", "Scott", "Watson",
    "Davis", "Parker", "James", "Bennett", "Young", "Phillips", "Richardson", "Mitchell", "Bailey",
    "Carter", "Cook", "Singh", "Shaw", "Bell", "Collins", "Morgan", "Kelly", "Begum", "Miller", "Cox",
    "Marshall", "Simpson", "Anderson", "Ellis", "Adams", "Wilkinson", "Ahmed", "Nowak", "Kowalski",
    "Okafor", "Mensah", "Ali", "Hussain", "Murphy", "O'Brien", "Price", "Gray", "Fox", "Rose", "Chapman",
    "Webb", "Hunt"
)  # fmt: skip

# spellings different people (and different clerks) really use for the same name
VARIANTS: dict[str, tuple[str, ...]] = {
    "Jayden": ("Jaydon", "Jaden", "Jaiden"), "Muhammad": ("Mohammed", "Mohammad", "Muhammed"),
    "Mohammed": ("Muhammad", "Mohamed"), "Katie": ("Katy", "Kate"), "Leah": ("Lea", "Leigh"),
    "Sophia": ("Sofia", "Sophie"), "Sofia": ("Sophia",), "Isla": ("Islay",), "Evie": ("Eve", "Evey"),
    "Freddie": ("Freddy", "Fred"), "Alfie": ("Alfy",), "Zoe": ("Zoë", "Zoey"), "Vicky": ("Vicki", "Victoria"),
    "Tom": ("Thomas", "Tommy"), "Ben": ("Benjamin",), "Matilda": ("Tilly",), "Callum": ("Calum",),
    "Hayley": ("Haley", "Hailey"), "Stacey": ("Stacy", "Stacie"), "Kirsty": ("Kirstie", "Kirsti"),
    "Lily": ("Lilly", "Lillie"), "Ronnie": ("Ronny",), "Reggie": ("Reggy",), "Phoebe": ("Pheobe",),
    "Thompson": ("Thomson",), "Davies": ("Davis",), "Clarke": ("Clark",), "O'Brien": ("OBrien", "O Brien"),
    "Begum": ("Begam",), "Hussain": ("Hussein",), "Nowak": ("Novak",), "Kowalski": ("Kowalsky",),
}  # fmt: skip


def typo(rng: random.Random, name: str) -> str:
    """One keying slip: two letters swapped, one dropped or one doubled."""
    if len(name) < 4:
        return name
    at = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    if kind == 1:
        return name[:at] + name[at + 1 :]
    return name[:at] + name[at] + name[at:]


def misspell(rng: random.Random, name: str) -> str:
    """A known variant when there is one, else a typo; the caller decides how often."""
    options = VARIANTS.get(name)
    if options and rng.random() < 0.7:
        return rng.choice(options)
    return typo(rng, name)


def given_name(rng: random.Random, sex: str, adult: bool) -> str:
    if adult:
        return rng.choice(ADULT_WOMEN if sex == "female" else ADULT_MEN)
    return rng.choice(GIRLS if sex == "female" else BOYS)


def surname(rng: random.Random) -> str:
    return rng.choice(SURNAMES)
